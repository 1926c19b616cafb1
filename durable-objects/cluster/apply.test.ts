import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { HostOp } from "../socketio/types";
import { allOf, applyOnHosts, startApply, withTimeout } from "./apply";
import { Sequence } from "./sequence";
import type { HostReply } from "./types";

const op: HostOp = { kind: "disconnect", target: { nsp: "/", rooms: [], except: [] }, close: false };
const never = () => new Promise<HostReply>(() => {});

/** Asks later whether `promise` has settled. */
function tracked(promise: Promise<unknown>): () => boolean {
  let done = false;
  void promise.then(() => (done = true));
  return () => done;
}

/** `settled` stays pending, however long, until `answer` is called; then it resolves. */
async function expectSettledOnlyAfter(settled: Promise<void>, answer: () => void): Promise<void> {
  const done = tracked(settled);
  await vi.advanceTimersByTimeAsync(60_000);
  expect(done()).toBe(false);
  answer();
  await settled;
}

/** A reply the test gives when it chooses. */
function later() {
  let answer: (reply: HostReply) => void = () => {};
  const reply = new Promise<HostReply>((resolve) => (answer = resolve));
  return { reply, answer };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Resolves `promise` while fake time moves on by `ms`. */
async function settleAfter<T>(ms: number, promise: Promise<T>): Promise<T> {
  await vi.advanceTimersByTimeAsync(ms);
  return promise;
}

describe("applyOnHosts", () => {
  it("calls each host once, in parallel, and returns one result per host", async () => {
    const calls: string[] = [];
    const results = await applyOnHosts(["a", "b", "a", "c", "b"], op, async (host) => {
      calls.push(host);
      return { matched: host.charCodeAt(0) - 96 };
    });
    expect(calls.sort()).toEqual(["a", "b", "c"]);
    expect(results).toEqual([
      { host: "a", ok: true, reply: { matched: 1 } },
      { host: "b", ok: true, reply: { matched: 2 } },
      { host: "c", ok: true, reply: { matched: 3 } },
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("reports a host that throws, synchronously or not, and still answers for the others", async () => {
    const results = await applyOnHosts(["ok", "rejects", "throws"], op, (host) => {
      if (host === "throws") throw new Error("no such stub");
      return host === "rejects" ? Promise.reject(new Error("Durable Object reset")) : Promise.resolve({ matched: 4 });
    });
    expect(results).toEqual([
      { host: "ok", ok: true, reply: { matched: 4 } },
      { host: "rejects", ok: false, error: "Durable Object reset" },
      { host: "throws", ok: false, error: "no such stub" },
    ]);
  });

  it("does not wait past the timeout for a host that never answers", async () => {
    const results = applyOnHosts(["fast", "stuck"], op, (host) => (host === "stuck" ? never() : Promise.resolve({ matched: 1 })), {
      timeoutMs: 50,
    });
    const done = tracked(results);
    await vi.advanceTimersByTimeAsync(49);
    expect(done()).toBe(false);
    expect(await settleAfter(1, results)).toEqual([
      { host: "fast", ok: true, reply: { matched: 1 } },
      { host: "stuck", ok: false, error: "timeout" },
    ]);
  });

  it("uses a default timeout of a few seconds", async () => {
    const results = applyOnHosts(["stuck"], op, never);
    const done = tracked(results);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(done()).toBe(false);
    expect(await settleAfter(9_000, results)).toEqual([{ host: "stuck", ok: false, error: "timeout" }]);
  });

  it("calls the local host directly, never through the remote call", async () => {
    const remote = vi.fn(async () => ({ matched: 10 }));
    const local = { name: "here", apply: vi.fn(async () => ({ matched: 2 })) };
    const results = await applyOnHosts(["here", "there"], op, remote, { local });
    expect(local.apply).toHaveBeenCalledOnce();
    expect(local.apply).toHaveBeenCalledWith(op);
    expect(remote).toHaveBeenCalledOnce();
    expect(remote).toHaveBeenCalledWith("there", op);
    expect(results).toEqual([
      { host: "here", ok: true, reply: { matched: 2 } },
      { host: "there", ok: true, reply: { matched: 10 } },
    ]);
  });

  it("reports a local host that fails like any other", async () => {
    const local = { name: "here", apply: () => Promise.reject(new Error("boom")) };
    expect(await applyOnHosts(["here"], op, never, { local })).toEqual([{ host: "here", ok: false, error: "boom" }]);
  });
});

describe("startApply", () => {
  it("settles only once a timed-out call has really ended", async () => {
    const { reply, answer } = later();
    const delivery = startApply(["slow"], op, () => reply, { timeoutMs: 10 });
    expect(await settleAfter(10, delivery.results)).toEqual([{ host: "slow", ok: false, error: "timeout" }]);
    await expectSettledOnlyAfter(delivery.settled, () => answer({ matched: 1 }));
  });
});

describe("allOf", () => {
  it("gathers every delivery's results and settles when the last one has", async () => {
    const { reply, answer } = later();
    const slow = startApply(["s"], op, () => reply, { timeoutMs: 10 });
    const fast = startApply(["f1", "f2"], op, async () => ({ matched: 2 }));
    const both = allOf([slow, fast]);
    expect(await settleAfter(10, both.results)).toEqual([
      { host: "s", ok: false, error: "timeout" },
      { host: "f1", ok: true, reply: { matched: 2 } },
      { host: "f2", ok: true, reply: { matched: 2 } },
    ]);
    await expectSettledOnlyAfter(both.settled, () => answer({ matched: 1 }));
  });
});

describe("Sequence", () => {
  it("starts an operation only after the previous one settled everywhere, even past its timeout", async () => {
    const sequence = new Sequence();
    const { reply, answer: answerFirst } = later();
    const order: string[] = [];
    const first = sequence.run(() =>
      startApply(
        ["h"],
        op,
        () => {
          order.push("first");
          return reply;
        },
        { timeoutMs: 10 },
      ),
    );
    const second = sequence.run(() =>
      startApply(["h"], op, async () => {
        order.push("second");
        return { matched: 1 };
      }),
    );
    expect(await settleAfter(10, first)).toEqual([{ host: "h", ok: false, error: "timeout" }]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(order).toEqual(["first"]);
    answerFirst({ matched: 1 });
    expect(await second).toEqual([{ host: "h", ok: true, reply: { matched: 1 } }]);
    expect(order).toEqual(["first", "second"]);
  });

  it("starts an issued operation's successor at once, with at most maxInFlight under way", async () => {
    const sequence = new Sequence(2);
    const replies = [later(), later(), later()];
    const order: number[] = [];
    const runs = replies.map(({ reply }, n) =>
      sequence.run(() => ({
        ...startApply(["h"], op, () => {
          order.push(n);
          return reply;
        }),
        issued: Promise.resolve(),
      })),
    );
    await vi.advanceTimersByTimeAsync(1_000);
    expect(order).toEqual([0, 1]);
    replies[0].answer({ matched: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual([0, 1, 2]);
    replies[1].answer({ matched: 1 });
    replies[2].answer({ matched: 1 });
    expect((await Promise.all(runs)).flat().every((result) => result.ok)).toBe(true);
  });

  it("keeps going after an operation that could not start", async () => {
    const sequence = new Sequence();
    const failed = sequence.run(() => Promise.reject(new Error("room unreachable")));
    const next = sequence.run(() => startApply(["h"], op, async () => ({ matched: 3 })));
    await expect(failed).rejects.toThrow("room unreachable");
    expect(await next).toEqual([{ host: "h", ok: true, reply: { matched: 3 } }]);
  });
});

describe("withTimeout", () => {
  it("keeps the error's message and leaves no timer behind", async () => {
    expect(await withTimeout(Promise.reject("plain"), 100)).toEqual({ ok: false, error: "plain" });
    expect(await withTimeout(Promise.resolve(7), 100)).toEqual({ ok: true, value: 7 });
    expect(vi.getTimerCount()).toBe(0);
  });
});
