import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EdgeioBindings } from "../bindings";
import type { HostOp, HostReply } from "../socketio/types";
import { clusterOf, eventOp } from "./cluster";
import { BATCH_WINDOW_MS, type HostApplier, HostStubs, MAX_BATCH_EMITS } from "./host-stubs";
import { Sequence } from "./sequence";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A model of Durable Object RPC: calls on one stub arrive in the order made (E-order), each stub
 * with its own latency, none between stubs. The first stub made to a host is slow: a later call
 * on another stub would overtake what is in flight on it.
 */
function network() {
  const received = new Map<string, number[]>();
  let made = 0;
  let started = 0;
  const make = (host: string): HostApplier => {
    const latency = made++ === 0 ? 30 : 0;
    let chain: Promise<unknown> = Promise.resolve();
    return {
      apply(op: HostOp): Promise<HostReply> {
        started++;
        const arrived = chain.then(() => sleep(latency));
        chain = arrived;
        return arrived.then(() => {
          const emits = op.kind === "batch" ? op.ops : op.kind === "emit" ? [op] : [];
          const seqs = emits.map((emit) => Number((emit.id ?? "").split(":")[1]));
          received.set(host, [...(received.get(host) ?? []), ...seqs]);
          return op.kind === "batch" ? { matched: emits.length, matchedEach: emits.map(() => 1) } : { matched: 1 };
        });
      },
    };
  };
  return { received, make, started: () => started };
}

describe("HostStubs", () => {
  it("lets one sender's emits start before earlier ones settled, and each host still gets them in order, in two calls", async () => {
    const net = network();
    const stubs = new HostStubs(net.make);
    const cluster = clusterOf({ ENVIRONMENT: "test" } as unknown as EdgeioBindings, async () => ["h1", "h2"], stubs);
    const sequence = new Sequence();
    const target = { nsp: "/", rooms: ["r"], except: [] };
    const runs = Array.from({ length: 20 }, (_, n) => {
      const op = eventOp(target, "seq", n);
      op.id = `e:${n}`;
      return sequence.run(() => cluster.apply(op));
    });
    // Pipelined: no emit waits for an earlier one to settle; those started within a window of
    // the first go to its host as one batch: 2 calls per host, not 20.
    const results = await Promise.all(runs);
    expect(results.every((result) => result.length === 2 && result.every((r) => r.ok && r.reply.matched === 1))).toBe(true);
    expect(net.started()).toBe(4);
    const inOrder = Array.from({ length: 20 }, (_, n) => n);
    expect(Object.fromEntries(net.received)).toEqual({ h1: inOrder, h2: inOrder });
    expect(stubs.size).toBe(2);
  });

  it("drops a stub whose call failed: the next call gets a fresh one", async () => {
    let made = 0;
    const stubs = new HostStubs(() => {
      const n = made++;
      return { apply: async () => (n === 0 ? Promise.reject(new Error("broken")) : { matched: 1 }) };
    });
    const op = eventOp({ nsp: "/", rooms: [], except: [] }, "x");
    await expect(stubs.call("h", op)).rejects.toThrow("broken");
    expect(stubs.size).toBe(0);
    await expect(stubs.call("h", op)).resolves.toEqual({ matched: 1 });
    await expect(stubs.call("h", op)).resolves.toEqual({ matched: 1 });
    expect(made).toBe(2);
  });

  it("past its cap, lets an idle stub go for a new host, never one with a call in flight", async () => {
    const answers: Array<(reply: HostReply) => void> = [];
    const made: string[] = [];
    const stubs = new HostStubs((host) => {
      made.push(host);
      return {
        apply: () => (host === "busy" ? new Promise<HostReply>((resolve) => answers.push(resolve)) : Promise.resolve({ matched: 1 })),
      };
    }, 2);
    const op = eventOp({ nsp: "/", rooms: [], except: [] }, "x");
    const busy = stubs.call("busy", op);
    await stubs.call("idle", op);
    await stubs.call("new", op);
    expect(stubs.size).toBe(2);
    // "busy" kept its stub (a call is in flight), "idle" was let go and is made again.
    void stubs.call("busy", op);
    await stubs.call("idle", op);
    expect(made).toEqual(["busy", "idle", "new", "idle"]);
    for (const answer of answers) answer({ matched: 1 });
    await busy;
  });
});

describe("HostStubs: emits closer than BATCH_WINDOW_MS to the previous one", () => {
  /** A host whose calls are answered by hand; the clock is vitest's. */
  function heldHost() {
    const calls: Array<{ op: HostOp; answer: (reply: HostReply) => void; fail: (error: Error) => void }> = [];
    const stubs = new HostStubs(() => ({
      apply: (op) => new Promise<HostReply>((answer, fail) => calls.push({ op, answer, fail })),
    }));
    const emit = (n: number) => Object.assign(eventOp({ nsp: "/", rooms: ["r"], except: [] }, "seq", n), { id: `e:${n}` });
    const ids = () => calls.map(({ op }) => (op.kind === "batch" ? op.ops.map((o) => o.id) : op.kind === "emit" ? [op.id] : [op.kind]));
    return { calls, stubs, emit, ids };
  }
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("wait one window and go as one batch, each answered with its own count; paced ones go at once", async () => {
    const { calls, stubs, emit, ids } = heldHost();
    const replies = [0, 1, 2, 3].map((n) => stubs.call("h", emit(n)));
    expect(ids()).toEqual([["e:0"]]);
    vi.advanceTimersByTime(BATCH_WINDOW_MS - 1);
    expect(ids()).toEqual([["e:0"]]);
    vi.advanceTimersByTime(1);
    expect(ids()).toEqual([["e:0"], ["e:1", "e:2", "e:3"]]);
    calls[0].answer({ matched: 5 });
    calls[1].answer({ matched: 9, matchedEach: [2, 3, 4] });
    expect(await Promise.all(replies)).toEqual([{ matched: 5 }, { matched: 2 }, { matched: 3 }, { matched: 4 }]);
    // A window after the last one went, the next emit goes at once, alone.
    vi.advanceTimersByTime(BATCH_WINDOW_MS);
    void stubs.call("h", emit(4));
    expect(ids()).toEqual([["e:0"], ["e:1", "e:2", "e:3"], ["e:4"]]);
  });

  it("are sent before any other operation, which cannot overtake them", () => {
    const { stubs, emit, ids } = heldHost();
    void stubs.call("h", emit(0));
    void stubs.call("h", emit(1));
    void stubs.call("h", emit(2));
    void stubs.call("h", { kind: "leave", target: { nsp: "/", rooms: [], except: [] }, rooms: ["r"] });
    expect(ids()).toEqual([["e:0"], ["e:1", "e:2"], ["leave"]]);
  });

  it(`go without waiting further once ${MAX_BATCH_EMITS} wait`, () => {
    const { calls, stubs, emit } = heldHost();
    for (let n = 0; n <= MAX_BATCH_EMITS + 1; n++) void stubs.call("h", emit(n));
    expect(calls.map((c) => (c.op.kind === "batch" ? c.op.ops.length : 1))).toEqual([1, MAX_BATCH_EMITS]);
  });

  it("fail when the host's stub broke meanwhile (as if sent on it); the next emit gets a fresh stub", async () => {
    const { calls, stubs, emit, ids } = heldHost();
    const first = stubs.call("h", emit(0));
    const waiting = [stubs.call("h", emit(1)), stubs.call("h", emit(2))];
    calls[0].fail(new Error("broken"));
    await expect(first).rejects.toThrow("broken");
    expect(stubs.size).toBe(0);
    vi.advanceTimersByTime(BATCH_WINDOW_MS);
    for (const reply of waiting) await expect(reply).rejects.toThrow("broken");
    void stubs.call("h", emit(3));
    expect(ids()).toEqual([["e:0"], ["e:3"]]);
  });
});
