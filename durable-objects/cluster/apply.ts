/**
 * Applying one operation on a set of hosts: once per host, in parallel, each call bounded by
 * a timeout, with one result per host. Pure (the RPC is a parameter), so it runs in Node tests.
 */

import type { HostOp } from "../socketio/types";
import { type ApplyOptions, DEFAULT_HOST_TIMEOUT_MS, type Delivery, type HostReply, type HostResult } from "./types";

/** How a host is called remotely (an RPC in production, anything in tests). */
export type HostCall<Op = HostOp, R = HostReply> = (host: string, op: Op) => Promise<R>;

/** Starts `op` on every distinct host of `hosts`; a host equal to `options.local.name` is called directly. */
export function startApply<Op = HostOp, R = HostReply>(
  hosts: Iterable<string>,
  op: Op,
  call: HostCall<Op, R>,
  options: ApplyOptions<Op, R> = {},
): Delivery<R> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HOST_TIMEOUT_MS;
  const { local } = options;
  // One timer for every host of the operation (they all start now), cleared once all answered.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<Bounded<R>>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: "timeout" }), timeoutMs);
  });
  const calls = [...new Set(hosts)].map((host) => {
    // Started now, in the caller's order (an ordered sender relies on it); a synchronous throw
    // becomes a rejected call like any other.
    const pending = started(() => (local && host === local.name ? local.apply(op) : call(host, op)));
    return { host, pending, bounded: Promise.race([outcomeOf(pending), timeout]) };
  });
  void Promise.all(calls.map((c) => c.bounded)).then(() => clearTimeout(timer));
  return {
    results: Promise.all(
      calls.map(async ({ host, bounded }): Promise<HostResult<R>> => {
        const outcome = await bounded;
        return outcome.ok ? { host, ok: true, reply: outcome.value } : { host, ok: false, error: outcome.error };
      }),
    ),
    settled: Promise.allSettled(calls.map((c) => c.pending)).then(() => undefined),
  };
}

/** `startApply(...).results`: for callers that do not order their operations. */
export function applyOnHosts<Op = HostOp, R = HostReply>(
  hosts: Iterable<string>,
  op: Op,
  call: HostCall<Op, R>,
  options?: ApplyOptions<Op, R>,
): Promise<HostResult<R>[]> {
  return startApply(hosts, op, call, options).results;
}

export type Bounded<T> = { ok: true; value: T } | { ok: false; error: "timeout" | string };

/** Settles with `promise`'s value or error, or with "timeout" after `ms`; never rejects, leaves no timer behind. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<Bounded<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<Bounded<T>>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: "timeout" }), ms);
  });
  return Promise.race([outcomeOf(promise), timeout]).finally(() => clearTimeout(timer));
}

function started<T>(start: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(start());
  } catch (error) {
    return Promise.reject(error);
  }
}

function outcomeOf<T>(promise: Promise<T>): Promise<Bounded<T>> {
  return promise.then(
    (value): Bounded<T> => ({ ok: true, value }),
    (error: unknown): Bounded<T> => ({ ok: false, error: messageOf(error) }),
  );
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // "timeout" is reserved for a host that did not answer in time.
  return message === "timeout" ? "error: timeout" : message || "error";
}

/** Several deliveries as one: every result, settled once all have settled. */
export function allOf<R = HostReply>(deliveries: Delivery<R>[]): Delivery<R> {
  return {
    results: Promise.all(deliveries.map((delivery) => delivery.results)).then((results) => results.flat()),
    settled: Promise.all(deliveries.map((delivery) => delivery.settled)).then(() => undefined),
    issued: deliveries.every((delivery) => delivery.issued)
      ? Promise.all(deliveries.map((delivery) => delivery.issued)).then(() => undefined)
      : undefined,
  };
}
