/**
 * The taking host's side of a two-phase recovery hand-over (docs/recovery.md, "Resuming"):
 * while a socket taken from another host is already in its rooms here but not yet released
 * there, what this host is sent for it is held in a bounded buffer; once the other host has
 * handed over its log, the two are merged by broadcast operation id, so each packet is
 * delivered once, in order. Also the ENVIRONMENT=test hold between the two phases.
 */
import type { WireFrame } from "../../protocol/engine-codec";

/** One packet kept for a socket: its frames, and the id of the broadcast operation that sent it (if any). */
export interface LoggedPacket {
  op?: string;
  frames: WireFrame[];
}

/** What a buffer may hold: the same bounds as a suspended socket's log. */
export interface BufferBounds {
  maxPackets: number;
  maxBytes: number;
}

interface Held {
  packets: LoggedPacket[];
  bytes: number;
  overflowed: boolean;
}

/** Live packets of sockets being handed over to this host, by socket id (in memory: they last one CONNECT). */
export class HandOverBuffers {
  private readonly held = new Map<string, Held>();

  start(socketId: string): void {
    this.held.set(socketId, { packets: [], bytes: 0, overflowed: false });
  }

  has(socketId: string): boolean {
    return this.held.has(socketId);
  }

  /** Holds one packet (true: held, not sent). Past the bounds the hand-over is marked failed. */
  hold(socketId: string, frames: WireFrame[], op: string | undefined, bounds: BufferBounds): boolean {
    const held = this.held.get(socketId);
    if (!held) return false;
    if (held.overflowed) return true;
    const bytes = frames.reduce((sum, frame) => sum + (typeof frame === "string" ? frame.length : frame.byteLength), 0);
    if (held.packets.length + 1 > bounds.maxPackets || held.bytes + bytes > bounds.maxBytes) {
      held.overflowed = true;
      held.packets = [];
      return true;
    }
    held.packets.push(op === undefined ? { frames } : { op, frames });
    held.bytes += bytes;
    return true;
  }

  /** Ends the buffering; what was held (null: it overflowed, the hand-over cannot be lossless). */
  stop(socketId: string): LoggedPacket[] | null {
    const held = this.held.get(socketId);
    this.held.delete(socketId);
    return !held || held.overflowed ? null : held.packets;
  }
}

/**
 * The other host's log, then what this host held that the log lacks. A packet held here and
 * logged there carries the same operation id (the broadcast reached both hosts); one held
 * here only was applied there after the log closed (or never went there), so it comes after
 * every logged one of the same sender, which is the order a sender's operations settle in.
 */
export function mergeHandOver(logged: LoggedPacket[], held: LoggedPacket[]): LoggedPacket[] {
  const seen = new Set(logged.flatMap((packet) => (packet.op === undefined ? [] : [packet.op])));
  return [...logged, ...held.filter((packet) => packet.op === undefined || !seen.has(packet.op))];
}

/**
 * ENVIRONMENT=test only (set through the host's `testRecovery`, which refuses it elsewhere):
 * hand-overs to this host wait between their two phases until released, so a test can emit
 * to the socket's rooms while both hosts list it.
 */
export class TestHold {
  private holding = false;
  private waiting: Array<() => void> = [];

  set(holding: boolean): void {
    this.holding = holding;
    if (holding) return;
    for (const release of this.waiting) release();
    this.waiting = [];
  }

  /** How many hand-overs are waiting now. */
  get held(): number {
    return this.waiting.length;
  }

  pass(): Promise<void> {
    if (!this.holding) return Promise.resolve();
    return new Promise((release) => this.waiting.push(release));
  }
}
