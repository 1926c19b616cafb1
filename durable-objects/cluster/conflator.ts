/**
 * Conflation, the pure part: per stream (a key such as a symbol, within one target and event)
 * keep only the latest value and let at most one out per interval. The first value of a quiet
 * stream goes out at once (leading edge); later ones wait for the interval's end (trailing
 * edge), which always carries the latest value. The clock is a parameter, so tests use a fake
 * one; the host (host-conflation.ts) sends, persists and wakes.
 *
 * Trailing edges are due on a grid of a quarter interval, so streams with the same interval
 * share wakes of the host's alarm (at most 4 per interval, whatever the number of keys); the
 * rounding only ever delays a send, so "at most once per interval" holds exactly.
 */

export type Offer = { action: "send"; overflow?: true } | { action: "hold"; dueAt: number };

interface Stream<V> {
  intervalMs: number;
  /** When the last value went out (null: unknown, e.g. after an eviction). */
  lastSentAt: number | null;
  pending: { value: V; dueAt: number; bytes: number } | null;
}

export interface ConflatorLimits {
  /** Streams remembered at once; idle ones are forgotten first. */
  maxStreams: number;
  /** Bytes of pending values held at once. */
  maxPendingBytes: number;
}

/** Rounds `at` up to the quarter-interval grid. */
export function dueOnGrid(at: number, intervalMs: number): number {
  const grid = Math.max(1, Math.ceil(intervalMs / 4));
  return Math.ceil(at / grid) * grid;
}

export class Conflator<V> {
  private readonly streams = new Map<string, Stream<V>>();
  private pendingBytes = 0;

  constructor(private readonly limits: ConflatorLimits) {}

  /**
   * A new value for `key`. "send": send it now (leading edge; or `overflow`, when a limit is
   * reached: the value goes out unconflated rather than being dropped). "hold": it replaces the
   * pending value and goes out at `dueAt`.
   */
  offer(key: string, intervalMs: number, value: V, now: number, bytes = 0): Offer {
    let stream = this.streams.get(key);
    if (!stream) {
      if (this.streams.size >= this.limits.maxStreams) this.prune(now);
      if (this.streams.size >= this.limits.maxStreams) return { action: "send", overflow: true };
      stream = { intervalMs, lastSentAt: null, pending: null };
      this.streams.set(key, stream);
    }
    stream.intervalMs = intervalMs;
    const pending = stream.pending;
    if (pending) {
      if (this.pendingBytes - pending.bytes + bytes > this.limits.maxPendingBytes) return { action: "send", overflow: true };
      this.pendingBytes += bytes - pending.bytes;
      stream.pending = { value, dueAt: pending.dueAt, bytes };
      return { action: "hold", dueAt: pending.dueAt };
    }
    if (stream.lastSentAt === null || now - stream.lastSentAt >= intervalMs) {
      stream.lastSentAt = now;
      return { action: "send" };
    }
    if (this.pendingBytes + bytes > this.limits.maxPendingBytes) return { action: "send", overflow: true };
    const dueAt = dueOnGrid(stream.lastSentAt + intervalMs, intervalMs);
    stream.pending = { value, dueAt, bytes };
    this.pendingBytes += bytes;
    return { action: "hold", dueAt };
  }

  /** A pending value read back after an eviction: due at `dueAt`, last send unknown. */
  restore(key: string, intervalMs: number, value: V, dueAt: number, bytes = 0): void {
    const stream = this.streams.get(key) ?? { intervalMs, lastSentAt: null, pending: null };
    if (stream.pending) this.pendingBytes -= stream.pending.bytes;
    stream.pending = { value, dueAt, bytes };
    this.pendingBytes += bytes;
    this.streams.set(key, stream);
  }

  /** The pending values due by `now`, handed over to be sent: `now` becomes their last send. */
  takeDue(now: number): Array<{ key: string; value: V }> {
    const due: Array<{ key: string; value: V }> = [];
    for (const [key, stream] of this.streams) {
      if (!stream.pending || stream.pending.dueAt > now) continue;
      due.push({ key, value: stream.pending.value });
      this.pendingBytes -= stream.pending.bytes;
      stream.pending = null;
      stream.lastSentAt = now;
    }
    return due;
  }

  /** The pending values of these streams (those that have one). */
  pendingValues(keys: string[]): Array<[string, V]> {
    const values: Array<[string, V]> = [];
    for (const key of keys) {
      const pending = this.streams.get(key)?.pending;
      if (pending) values.push([key, pending.value]);
    }
    return values;
  }

  /** When the next pending value is due (null: none). */
  nextDueAt(): number | null {
    let next: number | null = null;
    for (const stream of this.streams.values()) {
      if (stream.pending && (next === null || stream.pending.dueAt < next)) next = stream.pending.dueAt;
    }
    return next;
  }

  /** Forgets streams that constrain nothing any more: nothing pending and their interval over. */
  prune(now: number): void {
    for (const [key, stream] of this.streams) {
      if (!stream.pending && (stream.lastSentAt === null || now - stream.lastSentAt >= stream.intervalMs)) this.streams.delete(key);
    }
  }

  get size(): number {
    return this.streams.size;
  }

  get pendingCount(): number {
    let count = 0;
    for (const stream of this.streams.values()) if (stream.pending) count++;
    return count;
  }
}
