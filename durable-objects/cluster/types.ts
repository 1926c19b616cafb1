/** What the cluster seam sends to a host and what comes back, per host. */
import type { HostOp } from "../socketio/types";

/**
 * A host's answer to one HostOp. Today only how many of its sockets matched; an object, so
 * operations that need data back (fetchSockets, broadcast acks) can add fields.
 */
export interface HostReply {
  matched: number;
}

/** One host's outcome: its reply, or why there is none ("timeout", or the error's message). */
export type HostResult<R = HostReply> = { host: string; ok: true; reply: R } | { host: string; ok: false; error: "timeout" | string };

/** The host running the caller: called directly, not through RPC. */
export interface LocalHost<Op = HostOp, R = HostReply> {
  name: string;
  apply(op: Op): Promise<R>;
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
 * timed-out ones included (it never rejects). Ordered senders wait for `settled` before their
 * next operation, so a slow host cannot receive two operations of one sender out of order.
 */
export interface Delivery<R = HostReply> {
  results: Promise<HostResult<R>[]>;
  settled: Promise<void>;
}
