import { describe, expect, it } from "vitest";
import { BroadcastOperator } from "./broadcast-operator";
import { RemoteSocket } from "./remote-socket";
import { Server } from "./server";
import type { ClusterCalls, HostOp, HostRuntime } from "./types";

/** A runtime whose cluster answers what the test says, recording what it is asked. */
function fakeRuntime(cluster: Partial<ClusterCalls>) {
  const fanouts: Array<{ op: HostOp; local?: boolean }> = [];
  const asked: unknown[] = [];
  const record =
    <K extends keyof ClusterCalls>(name: K) =>
    (...args: Parameters<ClusterCalls[K]>) => {
      asked.push([name, ...args]);
      const answer = cluster[name] as ((...a: unknown[]) => unknown) | undefined;
      return answer ? answer(...args) : Promise.reject(new Error(`no ${name}`));
    };
  const runtime = {
    hostName: "self",
    maxPendingAcks: 10,
    fanout: async (op: HostOp, options?: { local?: boolean }) => {
      fanouts.push({ op, local: options?.local });
    },
    cluster: { fetchSockets: record("fetchSockets"), emitWithAck: record("emitWithAck"), serverSideEmit: record("serverSideEmit") },
  } as unknown as HostRuntime;
  return { runtime, fanouts, asked };
}

const ackOf = () => {
  let settle: (value: [Error | null, unknown]) => void = () => {};
  const answered = new Promise<[Error | null, unknown]>((resolve) => (settle = resolve));
  return { answered, ack: (error: Error | null, responses: unknown) => settle([error, responses]) };
};

describe("BroadcastOperator acknowledgements", () => {
  it("answers (null, responses) when every client answered, with the operator's timeout and target", async () => {
    const { runtime, asked } = fakeRuntime({ emitWithAck: async () => ({ responses: ["a", "b"], complete: true, failures: [] }) });
    const { answered, ack } = ackOf();
    expect(new BroadcastOperator(runtime, "/").to("r").timeout(250).emit("ev", 1, ack)).toBe(true);
    expect(await answered).toEqual([null, ["a", "b"]]);
    expect(asked).toEqual([["emitWithAck", { nsp: "/", rooms: ["r"], except: [] }, "ev", [1], { local: undefined, timeoutMs: 250 }]]);
  });

  it("answers Socket.IO's timeout error with the responses that came when some client did not answer", async () => {
    const { runtime } = fakeRuntime({ emitWithAck: async () => ({ responses: ["a"], complete: false, failures: [] }) });
    const { answered, ack } = ackOf();
    new BroadcastOperator(runtime, "/").timeout(10).emit("ev", ack);
    const [error, responses] = await answered;
    expect(error?.message).toBe("operation has timed out");
    expect(responses).toEqual(["a"]);
    const rejected = new BroadcastOperator(runtime, "/").timeout(10).emitWithAck("ev");
    await expect(rejected).rejects.toMatchObject({ message: "operation has timed out", responses: ["a"] });
  });

  it("refuses a reserved name or a bad timeout before sending anything", () => {
    const { runtime, asked, fanouts } = fakeRuntime({});
    expect(() => new BroadcastOperator(runtime, "/").emit("disconnect", () => {})).toThrow(/reserved/);
    expect(() => new BroadcastOperator(runtime, "/").timeout(-1)).toThrow(TypeError);
    expect(asked).toEqual([]);
    expect(fanouts).toEqual([]);
  });

  it("keeps `local` for emits and socketsJoin", async () => {
    const { runtime, fanouts } = fakeRuntime({});
    const io = new Server(runtime);
    io.local.emit("ev");
    await io.local.to("r").socketsJoin("s");
    await io.to("r").socketsJoin("s");
    expect(fanouts.map((f) => [f.op.kind, f.local])).toEqual([
      ["emit", true],
      ["join", true],
      ["join", undefined],
    ]);
  });
});

describe("fetchSockets", () => {
  it("returns RemoteSockets with the failures as a non-enumerable property", async () => {
    const details = { id: "s1", handshake: { auth: {} } as never, rooms: ["s1", "r"], data: { name: "x" } };
    const { runtime } = fakeRuntime({ fetchSockets: async () => ({ sockets: [details], failures: [{ host: "h", error: "timeout" }] }) });
    const sockets = await new Server(runtime).in("r").fetchSockets();
    expect(sockets).toHaveLength(1);
    expect(sockets[0]).toBeInstanceOf(RemoteSocket);
    expect(sockets[0].rooms).toEqual(new Set(["s1", "r"]));
    expect(sockets.failures).toEqual([{ host: "h", error: "timeout" }]);
    expect(Object.keys(sockets)).toEqual(["0"]);
    expect(JSON.stringify(sockets.map((s) => s.id))).toBe('["s1"]');
  });

  it("a RemoteSocket's ack gives the single response (null on timeout), through an operator on its id", async () => {
    const details = { id: "s1", handshake: { auth: {} } as never, rooms: ["s1"], data: {} };
    let complete = true;
    const { runtime, asked, fanouts } = fakeRuntime({
      fetchSockets: async () => ({ sockets: [details], failures: [] }),
      emitWithAck: async () => ({ responses: complete ? ["pong"] : [], complete, failures: [] }),
    });
    const [remote] = await new Server(runtime).fetchSockets();
    expect(await remote.timeout(100).emitWithAck("ping")).toBe("pong");
    expect(asked[1]).toEqual(["emitWithAck", { nsp: "/", rooms: ["s1"], except: [] }, "ping", [], { local: undefined, timeoutMs: 100 }]);
    complete = false;
    const { answered, ack } = ackOf();
    remote.timeout(100).emit("ping", ack);
    expect((await answered)[1]).toBeNull();
    await remote.join("r2");
    expect(fanouts.at(-1)?.op).toEqual({ kind: "join", target: { nsp: "/", rooms: ["s1"], except: [] }, rooms: ["r2"] });
  });
});

describe("serverSideEmit", () => {
  it("resolves with one answer per other host, or rejects as Socket.IO's adapters do", async () => {
    let answers: { responses: unknown[]; expected: number } = { responses: ["h2", "h3"], expected: 2 };
    const { runtime, asked } = fakeRuntime({ serverSideEmit: async () => ({ ...answers, failures: [] }) });
    const io = new Server(runtime);
    expect(await io.serverSideEmitWithAck("ping", 1)).toEqual(["h2", "h3"]);
    expect(asked[0]).toEqual(["serverSideEmit", "/", "ping", [1], 5000]);
    answers = { responses: ["h2"], expected: 2 };
    await expect(io.of("/chat").serverSideEmitWithAck("ping")).rejects.toMatchObject({
      message: "timeout reached: only 1 responses received out of 2",
      responses: ["h2"],
    });
    io.serverSideEmit("no-ack", "x");
    expect(asked[2]).toEqual(["serverSideEmit", "/", "no-ack", ["x"], undefined]);
    expect(() => io.serverSideEmit("connect")).toThrow(/reserved/);
  });

  it("registers namespace listeners for server-side events beside connection listeners", () => {
    const io = new Server(fakeRuntime({}).runtime);
    const listener = () => {};
    io.on("ping", listener).on("connection", () => {});
    expect(io.of("/").serverSideListeners("ping")).toEqual([listener]);
    expect(io.of("/").connectionListeners).toHaveLength(1);
  });
});

describe("conflate", () => {
  it("marks the emit with its key, interval and event, keeping target and flags", async () => {
    const { runtime, fanouts } = fakeRuntime({});
    new BroadcastOperator(runtime, "/feed").to("quotes").volatile.conflate("AAPL", 100).emit("quote", { bid: 1 });
    expect(fanouts).toHaveLength(1);
    expect(fanouts[0].op).toMatchObject({
      kind: "emit",
      target: { nsp: "/feed", rooms: ["quotes"], except: [] },
      volatile: true,
      conflate: { key: "AAPL", intervalMs: 100, event: "quote" },
    });
    new BroadcastOperator(runtime, "/feed").to("quotes").emit("quote", { bid: 2 });
    expect(fanouts[1].op).not.toHaveProperty("conflate");
  });

  it("refuses an interval out of range, an empty key and an acknowledgement, before sending anything", () => {
    const { runtime, fanouts } = fakeRuntime({});
    const op = new BroadcastOperator(runtime, "/").to("quotes");
    expect(() => op.conflate("AAPL", 9)).toThrow(/10–60000/);
    expect(() => op.conflate("AAPL", 60_001)).toThrow(/10–60000/);
    expect(() => op.conflate("AAPL", 100.5)).toThrow(/integer/);
    expect(() => op.conflate("", 100)).toThrow(/key/);
    expect(() => op.conflate("AAPL", 100).emit("quote", 1, () => {})).toThrow(/acknowledgement/);
    expect(fanouts).toEqual([]);
  });
});
