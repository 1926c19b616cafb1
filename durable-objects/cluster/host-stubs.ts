/**
 * One kept stub per target host, so a sender's calls to that host arrive in the order made
 * (Cloudflare's E-order holds per stub, not across stubs). A call that fails drops its stub:
 * a failed stub is broken, so every call still in flight on it fails too and none can be
 * overtaken by a later call on the fresh stub the next operation gets. Past `max` hosts, an
 * idle stub (no call in flight, so nothing to overtake) is let go for each new one.
 *
 * Emits to a host that got one less than BATCH_WINDOW_MS ago wait, at most that long, and then
 * go as one `batch` call (in order, each still answered with its own count): under a burst a
 * host gets one RPC per window instead of one per emit, and an RPC costs far more CPU (and a
 * billed request) than the sends it carries. Emits further apart (paced traffic) go at once, as
 * before: the wait is paid only above one emit per window to a host. Any other operation first
 * sends what waits, so nothing overtakes it.
 */
import type { WireFrame } from "../../protocol/engine-codec";
import type { EmitOp, HostOp, HostReply } from "../socketio/types";

export interface HostApplier {
  apply(op: HostOp): Promise<HostReply>;
}

/** Stubs kept at most, while idle ones can be let go (a namespace-wide emit may reach thousands of hosts). */
export const MAX_KEPT_STUBS = 1_024;
/** Emits waiting for one host, at most, before they go without waiting further (bounds the call's size). */
export const MAX_BATCH_EMITS = 64;
/** Frame bytes (string length) of the emits waiting for one host, at most, before they go. */
export const MAX_BATCH_BYTES = 256 * 1024;
/** An emit closer than this to the previous one to its host waits (at most this long) to go with the next ones. */
export const BATCH_WINDOW_MS = 5;

interface Waiting {
  op: EmitOp;
  resolve(reply: HostReply): void;
  reject(error: unknown): void;
}

interface Kept {
  stub: HostApplier;
  inFlight: number;
  /** When the last emit (or batch) went to this host. */
  lastEmitAt: number;
  waiting: Waiting[];
  waitingBytes: number;
  /** Sends what waits once BATCH_WINDOW_MS passed (set while anything waits). */
  timer?: ReturnType<typeof setTimeout>;
  /** Set once a call failed: what waits fails with it (the stub is broken). */
  failure?: unknown;
}

export class HostStubs {
  private readonly stubs = new Map<string, Kept>();

  constructor(
    private readonly make: (host: string) => HostApplier,
    private readonly max = MAX_KEPT_STUBS,
  ) {}

  call(host: string, op: HostOp): Promise<HostReply> {
    let kept = this.stubs.get(host);
    if (!kept) {
      this.letIdleGo();
      kept = { stub: this.make(host), inFlight: 0, lastEmitAt: Number.NEGATIVE_INFINITY, waiting: [], waitingBytes: 0 };
      this.stubs.set(host, kept);
    }
    if (op.kind !== "emit") this.flush(host, kept);
    else if (kept.waiting.length > 0 || Date.now() - kept.lastEmitAt < BATCH_WINDOW_MS) return this.wait(host, kept, op);
    return this.issue(host, kept, op);
  }

  /** How many hosts have a kept stub (tests). */
  get size(): number {
    return this.stubs.size;
  }

  private wait(host: string, kept: Kept, op: EmitOp): Promise<HostReply> {
    const answer = new Promise<HostReply>((resolve, reject) => kept.waiting.push({ op, resolve, reject }));
    kept.waitingBytes += bytesOf(op.frames);
    if (kept.waiting.length >= MAX_BATCH_EMITS || kept.waitingBytes >= MAX_BATCH_BYTES) this.flush(host, kept);
    else kept.timer ??= setTimeout(() => this.flush(host, kept), BATCH_WINDOW_MS);
    return answer;
  }

  /** Sends the waiting emits as one call (a lone one as itself); each gets its own count back. */
  private flush(host: string, kept: Kept): void {
    if (kept.failure !== undefined) {
      this.fail(kept);
      return;
    }
    const waiting = kept.waiting;
    clearTimeout(kept.timer);
    kept.timer = undefined;
    if (waiting.length === 0) return;
    kept.waiting = [];
    kept.waitingBytes = 0;
    if (waiting.length === 1) {
      this.issue(host, kept, waiting[0].op).then(waiting[0].resolve, waiting[0].reject);
      return;
    }
    const ops = waiting.map((w) => w.op);
    this.issue(host, kept, { kind: "batch", target: ops[0].target, ops }).then(
      (reply) => {
        for (const [i, w] of waiting.entries()) w.resolve({ matched: reply.matchedEach?.[i] ?? 0 });
      },
      (error: unknown) => {
        for (const w of waiting) w.reject(error);
      },
    );
  }

  private issue(host: string, entry: Kept, op: HostOp): Promise<HostReply> {
    entry.inFlight++;
    if (op.kind === "emit" || op.kind === "batch") entry.lastEmitAt = Date.now();
    const ended = () => {
      entry.inFlight--;
    };
    const failed = (error: unknown): never => {
      entry.failure ??= error;
      if (this.stubs.get(host) === entry) this.stubs.delete(host);
      throw error;
    };
    let pending: Promise<HostReply>;
    try {
      pending = Promise.resolve(entry.stub.apply(op));
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.catch(failed).finally(ended);
  }

  /** The stub broke: what waits for it fails with it, as if it had been sent on it. */
  private fail(entry: Kept): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.waitingBytes = 0;
    for (const w of entry.waiting.splice(0)) w.reject(entry.failure);
  }

  private letIdleGo(): void {
    if (this.stubs.size < this.max) return;
    for (const [host, kept] of this.stubs) {
      if (kept.inFlight > 0 || kept.waiting.length > 0) continue;
      this.stubs.delete(host);
      return;
    }
  }
}

function bytesOf(frames: WireFrame[]): number {
  let bytes = 0;
  for (const frame of frames) bytes += typeof frame === "string" ? frame.length : frame.byteLength;
  return bytes;
}
