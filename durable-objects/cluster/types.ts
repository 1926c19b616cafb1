/** What the cluster seam sends to a host and what comes back, per host. */
import type { HostOp, HostReply, HostResult } from "../socketio/types";

// Defined beside HostOp (socketio/types.ts) because the server API reads them too.
export type { HostReply, HostResult };

/** The host running the caller: called directly, not through RPC. */
export interface LocalHost<Op = HostOp, R = HostReply> {
  name: string;
  apply(op: Op): Promise<R>;
  /**
   * Called right before `op` starts on hosts that include this one, which applies it with no
   * await in between: the host notes on `op` what it reaches itself (`OpOrigin`), for the others.
   */
  claim?(op: Op): void;
}

export interface ApplyOptions<Op = HostOp, R = HostReply> {
  /** How long to wait for each host before reporting it as "timeout" (default DEFAULT_HOST_TIMEOUT_MS). */
  timeoutMs?: number;
  local?: LocalHost<Op, R>;
}

/** Long enough for a busy host, short enough that one stuck host does not stall a caller. */
export const DEFAULT_HOST_TIMEOUT_MS = 5_000;

/**
 * An operation under way on some hosts. `results` resolves once every host has answered or
 * timed out (it never rejects because of a host); `settled` once every call has really ended,
 * timed-out ones included (it never rejects). `issued`, when set, resolves once every call has
 * been started on a kept per-host stub (host-stubs.ts) and the op is one a host applies without
 * waiting (an emit): a later call on the same stub cannot overtake it. Ordered senders wait for
 * `issued` if set, else for `settled`, before their next operation (cluster/sequence.ts).
 */
export interface Delivery<R = HostReply> {
  results: Promise<HostResult<R>[]>;
  settled: Promise<void>;
  issued?: Promise<void>;
}
