/**
 * Conflated emits on one host: each host that has members keeps, per stream (namespace,
 * target rooms and except, event, key), the latest value and sends it to its own matching
 * sockets at most once per interval — so each member gets at most one update per key per
 * interval, with no object shared by the publishers. Trailing edges are sent by the host's one
 * alarm (no setTimeout in Durable Objects).
 *
 * Eviction: a held value is written to SQLite (conflation-store.ts) before the call that
 * brought it answers, and the alarm is persisted too, so a value held when the host is evicted
 * or restarted is still sent when the alarm wakes the new instance: a member is never left on
 * a stale value. What is lost is each stream's last-send time (memory only), so the first value
 * after a restart may go out at once: one extra delivery within an interval, per restart.
 */
import { Conflator, type ConflatorLimits } from "./conflator";
import type { EmitOp } from "../socketio/types";

/** Where held values survive eviction (SQLite on a ConnectionHost). */
export interface ConflationStorage {
  loadAll(): Array<{ stream: string; dueAt: number; intervalMs: number; op: EmitOp; bytes: number }>;
  save(stream: string, dueAt: number, op: EmitOp): void;
  remove(streams: string[]): void;
}

export interface ConflationHost {
  storage: ConflationStorage;
  /** Sends an (unconflated) emit to this host's matching sockets. */
  deliver(op: EmitOp): void;
  /** Calls `fire` once `at` has passed (the host's alarm). */
  scheduleDeadline(at: number, fire: () => void): () => void;
  now?: () => number;
}

export const HOST_CONFLATION_LIMITS: ConflatorLimits = { maxStreams: 10_000, maxPendingBytes: 8 * 1024 * 1024 };

/** The stream an emit belongs to: same namespace, rooms, except, event and key. */
export function streamOf(op: EmitOp): string {
  const { nsp, rooms, except } = op.target;
  const sorted = (list: string[]) => [...new Set(list)].sort();
  return JSON.stringify([nsp, sorted(rooms), sorted(except), op.conflate?.event ?? "", op.conflate?.key ?? ""]);
}

/** The emit without its conflation option: what is sent when it is sent. */
function plainOf(op: EmitOp): EmitOp {
  const id = op.id === undefined ? {} : { id: op.id };
  return { kind: "emit", target: op.target, frames: op.frames, ...(op.volatile ? { volatile: true } : {}), ...id };
}

function bytesOf(op: EmitOp): number {
  return op.frames.reduce((sum, frame) => sum + (typeof frame === "string" ? frame.length : frame.byteLength), 0);
}

export class HostConflation {
  private readonly conflator: Conflator<EmitOp>;
  /** Streams whose held value changed since the last commit. */
  private readonly dirty = new Map<string, number>();
  private loaded = false;
  private armed: { at: number; cancel: () => void } | null = null;
  private readonly now: () => number;

  constructor(
    private readonly host: ConflationHost,
    limits: ConflatorLimits = HOST_CONFLATION_LIMITS,
  ) {
    this.conflator = new Conflator(limits);
    this.now = host.now ?? Date.now;
  }

  /** Reads held values back once per instance (after an eviction) and arms the alarm for them. */
  load(): void {
    if (this.loaded) return;
    this.loaded = true;
    for (const row of this.host.storage.loadAll()) this.conflator.restore(row.stream, row.intervalMs, row.op, row.dueAt, row.bytes);
    this.arm();
  }

  /** A conflated emit arrived: sent now (leading edge) or held; call `commit` after a run of offers. */
  offer(op: EmitOp): void {
    this.load();
    const { conflate } = op;
    const plain = plainOf(op);
    if (!conflate) {
      this.host.deliver(plain);
      return;
    }
    const stream = streamOf(op);
    const outcome = this.conflator.offer(stream, conflate.intervalMs, op, this.now(), bytesOf(op));
    if (outcome.action === "send") {
      if (outcome.overflow) console.warn("edgeio: conflation limit reached on this host; emit sent unconflated");
      this.host.deliver(plain);
      return;
    }
    this.dirty.set(stream, outcome.dueAt);
  }

  /** Persists what the offers since the last commit held (one row per stream) and arms the alarm. */
  commit(): void {
    if (this.dirty.size === 0) return;
    const held = new Map(this.conflator.pendingValues([...this.dirty.keys()]));
    for (const [stream, dueAt] of this.dirty) {
      const op = held.get(stream);
      if (op) this.host.storage.save(stream, dueAt, op);
    }
    this.dirty.clear();
    this.arm();
  }

  /** Sends the held values that are due (the alarm fired). */
  flush(): void {
    const due = this.conflator.takeDue(this.now());
    for (const { value } of due) {
      try {
        this.host.deliver(plainOf(value));
      } catch (error) {
        console.error("edgeio: conflated emit failed", error);
      }
    }
    if (due.length > 0) this.host.storage.remove(due.map((entry) => entry.key));
    this.arm();
  }

  get pendingCount(): number {
    return this.conflator.pendingCount;
  }

  /** Keeps one deadline on the host's alarm, at the earliest held value. */
  private arm(): void {
    const next = this.conflator.nextDueAt();
    if (this.armed && this.armed.at === next) return;
    this.armed?.cancel();
    this.armed = null;
    if (next === null) return;
    const cancel = this.host.scheduleDeadline(next, () => {
      this.armed = null;
      this.flush();
    });
    this.armed = { at: next, cancel };
  }
}
