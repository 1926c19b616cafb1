/** `to(room).except(id).emit(…)` and friends, mirroring Socket.IO's BroadcastOperator. */
import { type ConflateOption, conflateProblem } from "../../protocol/conflation";
import { encodePacket, PacketType } from "../../protocol/socketio-codec";
import { assertEmittable } from "./emittable";
import { type FetchedSockets, RemoteSocket, withFailures } from "./remote-socket";
import type { HostRuntime, Target } from "./types";

export type RoomArg = string | readonly string[];

/** Socket.IO's BroadcastFlags, those edgeio acts on. */
export interface BroadcastFlags {
  /** Dropped for sessions whose transport is not writable. */
  volatile?: boolean;
  /** This host's sockets only. */
  local?: boolean;
  /** Acknowledgement timeout (ms) for `emit(…, ack)` / `emitWithAck`; per-host wait for fetchSockets. */
  timeout?: number;
  /** A RemoteSocket's operator: the ack callback gets the one response, not an array. */
  expectSingleResponse?: boolean;
  /** Latest value per key, at most once per interval per member (cluster/host-conflation.ts). */
  conflate?: ConflateOption;
}

/** Without `timeout(ms)`, a broadcast with an ack waits this long (Socket.IO times out at once). */
export const DEFAULT_BROADCAST_ACK_TIMEOUT_MS = 5_000;

const toList = (rooms: RoomArg) => (typeof rooms === "string" ? [rooms] : [...rooms]);

type BroadcastAck = (error: (Error & { responses?: unknown }) | null, responses: unknown) => void;

export class BroadcastOperator {
  constructor(
    private readonly runtime: HostRuntime,
    private readonly nsp: string,
    private readonly rooms: ReadonlySet<string> = new Set(),
    private readonly exceptRooms: ReadonlySet<string> = new Set(),
    private readonly flags: Readonly<BroadcastFlags> = {},
  ) {}

  to(room: RoomArg): BroadcastOperator {
    return new BroadcastOperator(this.runtime, this.nsp, new Set([...this.rooms, ...toList(room)]), this.exceptRooms, this.flags);
  }

  in(room: RoomArg): BroadcastOperator {
    return this.to(room);
  }

  except(room: RoomArg): BroadcastOperator {
    return new BroadcastOperator(this.runtime, this.nsp, this.rooms, new Set([...this.exceptRooms, ...toList(room)]), this.flags);
  }

  private withFlags(flags: BroadcastFlags): BroadcastOperator {
    return new BroadcastOperator(this.runtime, this.nsp, this.rooms, this.exceptRooms, { ...this.flags, ...flags });
  }

  /** Packets of a volatile emit are dropped for sessions whose transport is not writable. */
  get volatile(): BroadcastOperator {
    return this.withFlags({ volatile: true });
  }

  /** Only this host's sockets (Socket.IO: this server's). */
  get local(): BroadcastOperator {
    return this.withFlags({ local: true });
  }

  /** The acknowledgement timeout of the next `emit(…, ack)` / `emitWithAck`, and fetchSockets' wait per host. */
  timeout(ms: number): BroadcastOperator {
    if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`edgeio: timeout(ms) needs a non-negative number, got ${ms}`);
    return this.withFlags({ timeout: ms });
  }

  /**
   * Conflates the next emit: each host keeps only the latest value per (target, event, `key`)
   * and sends it to its sockets at most once per `intervalMs` (10–60000); the first value of a
   * quiet key goes out at once, the last one always goes out. No acknowledgement.
   */
  conflate(key: string, intervalMs: number): BroadcastOperator {
    const problem = conflateProblem(key, intervalMs);
    if (problem) throw new TypeError(`edgeio: conflate(key, ms): ${problem}`);
    return this.withFlags({ conflate: { key, intervalMs } });
  }

  get target(): Target {
    return { nsp: this.nsp, rooms: [...this.rooms], except: [...this.exceptRooms] };
  }

  /**
   * Sends to every matching socket on every host. Returns true like Socket.IO; delivery
   * happens in order after the call returns. With a trailing callback, each client's
   * acknowledgement is collected: `(err, responses)`, err being Socket.IO's
   * "operation has timed out" when some client did not answer in time.
   */
  emit(event: string, ...args: unknown[]): true {
    // Throws before the fan-out: one bad emit must not reach (and break) every client of a room.
    assertEmittable(event, args, { ack: true });
    const last = args[args.length - 1];
    if (typeof last === "function") {
      if (this.flags.conflate) throw new TypeError("edgeio: a conflated emit cannot take an acknowledgement");
      this.emitWithAckCallback(event, args.slice(0, -1), last as BroadcastAck);
      return true;
    }
    const frames = encodePacket({ type: PacketType.EVENT, nsp: this.nsp, data: [event, ...args] });
    const conflate = this.flags.conflate ? { conflate: { ...this.flags.conflate, event } } : {};
    void this.runtime.fanout(
      { kind: "emit", target: this.target, frames, volatile: this.flags.volatile === true, ...conflate },
      { local: this.flags.local },
    );
    return true;
  }

  /** Resolves with every client's answer; rejects with "operation has timed out" (`err.responses`: those that came). */
  emitWithAck(event: string, ...args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.emit(event, ...args, ((error, responses) => {
        if (!error) return resolve(responses);
        error.responses = responses;
        reject(error);
      }) satisfies BroadcastAck);
    });
  }

  private emitWithAckCallback(event: string, args: unknown[], ack: BroadcastAck): void {
    const single = this.flags.expectSingleResponse === true;
    const timeoutMs = this.flags.timeout ?? DEFAULT_BROADCAST_ACK_TIMEOUT_MS;
    const answer = (error: Error | null, responses: unknown[]) => {
      try {
        ack(error, single ? (error ? null : responses[0]) : responses);
      } catch (thrown) {
        console.error("edgeio: broadcast acknowledgement callback threw", thrown);
      }
    };
    this.runtime.cluster.emitWithAck(this.target, event, args, { local: this.flags.local, timeoutMs }).then(
      ({ responses, complete }) => answer(complete ? null : new Error("operation has timed out"), responses),
      (error: unknown) => answer(error instanceof Error ? error : new Error(String(error)), []),
    );
  }

  /**
   * The matching sockets of every host (this one's with `local`), as RemoteSockets. A host
   * that fails or does not answer within the timeout (default 5 s) is left out and listed in
   * the array's non-enumerable `failures` (`[{ host, error }]`): the call never hangs.
   */
  async fetchSockets(): Promise<FetchedSockets> {
    const { sockets, failures } = await this.runtime.cluster.fetchSockets(this.target, {
      local: this.flags.local,
      timeoutMs: this.flags.timeout,
    });
    const operatorFor = (id: string) =>
      new BroadcastOperator(this.runtime, this.nsp, new Set([id]), new Set(), { expectSingleResponse: true });
    return withFailures(
      sockets.map((details) => new RemoteSocket(details, operatorFor(details.id))),
      failures,
    );
  }

  socketsJoin(room: RoomArg): Promise<void> {
    return this.runtime.fanout({ kind: "join", target: this.target, rooms: toList(room) }, { local: this.flags.local });
  }

  socketsLeave(room: RoomArg): Promise<void> {
    return this.runtime.fanout({ kind: "leave", target: this.target, rooms: toList(room) }, { local: this.flags.local });
  }

  disconnectSockets(close = false): Promise<void> {
    return this.runtime.fanout({ kind: "disconnect", target: this.target, close }, { local: this.flags.local });
  }

  /** Accepted for compatibility, without effect (see Socket#compress). */
  compress(_compress: boolean): BroadcastOperator {
    return this;
  }
}
