import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AckCollection, HostOp, HostReply, Target } from "../socketio/types";
import { startApply } from "./apply";
import type { Cluster } from "./cluster";
import { ACK_TRANSIT_MS, ackOutcome, clusterCalls } from "./gather";
import { Sequence } from "./sequence";

const target: Target = { nsp: "/", rooms: ["room"], except: [] };
const never = <T>() => new Promise<T>(() => {});

/** A cluster of named hosts answering `apply` with `replies[host](op)`; "self" is the caller. */
function fakeCluster(replies: Record<string, (op: HostOp) => Promise<HostReply>>, acks: Record<string, () => Promise<AckCollection>> = {}) {
  const applied: Array<{ host: string; kind: string }> = [];
  const call = (host: string, op: HostOp) => {
    applied.push({ host, kind: op.kind });
    return replies[host](op);
  };
  const cluster: Cluster = {
    hostsFor: async () => new Set(Object.keys(replies)),
    applyOn: (hosts, op, options) => startApply(hosts, op, call, { timeoutMs: options?.timeoutMs }),
    apply: (op, options) => startApply(Object.keys(replies), op, call, { timeoutMs: options?.timeoutMs }),
  };
  const collect = (host: string) => acks[host]?.() ?? Promise.resolve({ responses: [], expected: -1 });
  const calls = clusterCalls({
    cluster,
    self: { name: "self", apply: (op) => call("self", op), collectAcks: () => collect("self") },
    collectAcks: (host) => collect(host),
    sequence: new Sequence(),
  });
  return { calls, applied };
}

const details = (id: string) => ({ id, handshake: {} as never, rooms: [id, "room"], data: { id } });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("fetchSockets", () => {
  it("gathers every host's sockets and names the hosts that did not answer in time", async () => {
    const { calls } = fakeCluster({
      self: async () => ({ matched: 1, sockets: [details("s1")] }),
      h2: async () => ({ matched: 2, sockets: [details("s2"), details("s3")] }),
      stuck: () => never(),
      broken: () => Promise.reject(new Error("reset")),
    });
    const fetched = calls.fetchSockets(target, { timeoutMs: 100 });
    await vi.advanceTimersByTimeAsync(100);
    const { sockets, failures } = await fetched;
    expect(sockets.map((s) => s.id)).toEqual(["s1", "s2", "s3"]);
    expect(failures).toEqual([
      { host: "stuck", error: "timeout" },
      { host: "broken", error: "reset" },
    ]);
  });

  it("asks only the calling host with `local`", async () => {
    const { calls, applied } = fakeCluster({ self: async () => ({ matched: 0, sockets: [] }), h2: async () => ({ matched: 0 }) });
    await calls.fetchSockets(target, { local: true });
    expect(applied).toEqual([{ host: "self", kind: "fetch" }]);
  });
});

describe("emitWithAck", () => {
  it("sends once per host, then collects each host's answers", async () => {
    const { calls, applied } = fakeCluster(
      { self: async () => ({ matched: 1 }), h2: async () => ({ matched: 2 }), empty: async () => ({ matched: 0 }) },
      { self: async () => ({ responses: ["a"], expected: 1 }), h2: async () => ({ responses: ["b", "c"], expected: 2 }) },
    );
    expect(await calls.emitWithAck(target, "ev", [1], { timeoutMs: 1000 })).toEqual({
      responses: ["a", "b", "c"],
      complete: true,
      failures: [],
    });
    expect(applied.map((a) => `${a.host}:${a.kind}`)).toEqual(["self:emitWithAck", "h2:emitWithAck", "empty:emitWithAck"]);
  });

  it("is incomplete when a client did not answer, or a host did not collect in time", async () => {
    const { calls } = fakeCluster(
      { self: async () => ({ matched: 2 }), slow: async () => ({ matched: 1 }) },
      { self: async () => ({ responses: ["a"], expected: 2 }), slow: () => never() },
    );
    const outcome = calls.emitWithAck(target, "ev", [], { timeoutMs: 1000 });
    await vi.advanceTimersByTimeAsync(1000 + ACK_TRANSIT_MS);
    expect(await outcome).toEqual({ responses: ["a"], complete: false, failures: [{ host: "slow", error: "timeout" }] });
  });
});

describe("ackOutcome", () => {
  it("counts a host that lost the ack id (evicted meanwhile) as a failure", () => {
    expect(ackOutcome([{ host: "h", ok: true, reply: { responses: [], expected: -1 } }])).toEqual({
      responses: [],
      complete: false,
      failures: [{ host: "h", error: "lost" }],
    });
  });
});

describe("serverSideEmit", () => {
  it("reaches every other host of the namespace once, never the sender, and expects one answer each", async () => {
    const { calls, applied } = fakeCluster({
      self: async () => ({ matched: 1, responses: ["me"] }),
      h2: async () => ({ matched: 1, responses: ["two"] }),
      h3: async () => ({ matched: 0, responses: [] }),
    });
    expect(await calls.serverSideEmit("/", "ping", [], 1000)).toEqual({ responses: ["two"], expected: 2, failures: [] });
    expect(applied.map((a) => a.host).sort()).toEqual(["h2", "h3"]);
  });
});
