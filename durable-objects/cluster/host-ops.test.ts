import { describe, expect, it } from "vitest";
import type { Namespace } from "../socketio/server";
import type { Socket } from "../socketio/socket";
import type { EmitOp } from "../socketio/types";
import { type HostOpContext, HostOps } from "./host-ops";
import { TestStall } from "./test-stall";

type AckCallback = (error: Error | null, response?: unknown) => void;

/** A host with sockets `ids`; each fake socket hands its ack callback to the test. */
function fakeHost(ids: string[], listeners: Record<string, Array<(...args: unknown[]) => unknown>> = {}, recovered: string[] = []) {
  const selects: string[][] = [];
  const acks = new Map<string, AckCallback>();
  const deadlines: Array<{ at: number; fire: () => void; cancelled: boolean }> = [];
  const sent: Array<{ id: string; event: string; args: unknown[] }> = [];
  const conflation = { offered: [] as unknown[], commits: 0 };
  const frames: Array<{ sid: string; frames: unknown[] }> = [];
  const socketOf = (id: string) =>
    ({
      id,
      timeout: () => ({
        emit: (event: string, ...args: unknown[]) => {
          acks.set(id, args.pop() as AckCallback);
          sent.push({ id, event, args });
          return true;
        },
      }),
    }) as unknown as Socket;
  const context: HostOpContext = {
    select: (_nsp, rooms) => {
      selects.push(rooms);
      return ids.map((id) => ({ id, sid: `sid-${id}` }));
    },
    recoveredHere: (t) => t.rooms.filter((room) => recovered.includes(room)),
    deliver: (socket, sentFrames) => frames.push({ sid: socket.sid, frames: sentFrames }),
    mark: (frames) => frames,
    forward: async () => [],
    join: async () => {},
    leave: async () => {},
    closeSession: () => {},
    disconnectSocket: () => {},
    describe: (id) => ({ id, handshake: {} as never, rooms: [id], data: { name: id } }),
    ready: async (id) => (id.startsWith("gone") ? undefined : socketOf(id)),
    namespace: () => ({ serverSideListeners: (event: string) => listeners[event] ?? [] }) as unknown as Namespace,
    scheduleDeadline: (at, fire) => {
      const deadline = { at, fire, cancelled: false };
      deadlines.push(deadline);
      return () => (deadline.cancelled = true);
    },
    conflation: {
      offer: (op) => conflation.offered.push(op),
      commit: () => conflation.commits++,
    },
  };
  const fireDeadlines = () => {
    for (const deadline of deadlines.splice(0)) if (!deadline.cancelled) deadline.fire();
  };
  return { ops: new HostOps(context), acks, sent, fireDeadlines, conflation, frames, selects };
}

const target = { nsp: "/", rooms: ["room"], except: [] };

describe("HostOps", () => {
  it("leaves a socket that recovered here to its home when the home was called too (viaHomes, by RPC)", async () => {
    const emit = (rooms: string[], viaHomes?: true): EmitOp => ({
      kind: "emit",
      target: { nsp: "/", rooms, except: [] },
      frames: ["x"],
      viaHomes,
    });
    const { ops, selects, frames } = fakeHost(["s1"], {}, ["moved"]);
    // By RPC, sent to the homes: "moved" is not selected by its id here (its home delivers or forwards).
    expect(await ops.apply(emit(["moved", "room"], true), true)).toEqual({ matched: 1 });
    expect(await ops.apply(emit(["moved"], true), true)).toEqual({ matched: 0 });
    // Started here (its sender reaches it and tells the home), or forwarded by the home: selected.
    await ops.apply(emit(["moved"], true));
    await ops.apply(emit(["moved"]), true);
    // Acknowledged broadcasts are never forwarded: always selected here.
    await ops.apply(
      {
        kind: "emitWithAck",
        target: { nsp: "/", rooms: ["moved"], except: [] },
        ackId: "z",
        event: "e",
        args: [],
        timeoutMs: 10,
        viaHomes: true,
      },
      true,
    );
    expect(selects).toEqual([["room"], ["moved"], ["moved"], ["moved"]]);
    expect(frames).toHaveLength(3);
    // In a batch too, each emit on its own.
    const batch = {
      kind: "batch" as const,
      target: { nsp: "/", rooms: ["moved"], except: [] },
      ops: [emit(["moved"], true), emit(["room"], true)],
    };
    expect(await ops.apply(batch, true)).toMatchObject({ matchedEach: [0, 1] });
    // An op this host sends names what it reaches itself that way, for the home (batch: each emit).
    const sent = emit(["moved", "room"]);
    ops.claim(sent);
    expect(sent.reached).toEqual(["moved"]);
    ops.claim({ ...batch, ops: [sent] });
    expect(sent.reached).toEqual(["moved"]);
    sent.target.rooms = ["room"];
    ops.claim(sent);
    expect(sent).not.toHaveProperty("reached");
  });

  it("describes its matching sockets for fetchSockets", async () => {
    const { ops } = fakeHost(["s1", "s2"]);
    const reply = await ops.apply({ kind: "fetch", target });
    expect(reply.matched).toBe(2);
    expect(reply.sockets?.map((s) => s.data)).toEqual([{ name: "s1" }, { name: "s2" }]);
  });

  it("sends a broadcast with acks to each socket and hands over the answers once all came", async () => {
    const { ops, acks, sent } = fakeHost(["s1", "s2", "gone-3"]);
    expect(await ops.apply({ kind: "emitWithAck", target, ackId: "x", event: "ev", args: [1], timeoutMs: 100 })).toEqual({ matched: 3 });
    expect(sent).toEqual([
      { id: "s1", event: "ev", args: [1] },
      { id: "s2", event: "ev", args: [1] },
    ]);
    let collected = false;
    const collection = ops.collectAcks("x").then((c) => {
      collected = true;
      return c;
    });
    acks.get("s1")?.(null, "one");
    await Promise.resolve();
    expect(collected).toBe(false); // s2 has not answered or timed out yet
    acks.get("s2")?.(new Error("operation has timed out"));
    // A socket gone before the emit counts as not answering; answers are the clients' first arguments.
    expect(await collection).toEqual({ responses: ["one"], expected: 3 });
    expect(await ops.collectAcks("x")).toEqual({ responses: [], expected: -1 }); // collected once, then forgotten
  });

  it("keeps nothing for a broadcast with acks that matched nobody (its caller does not collect)", async () => {
    const { ops } = fakeHost([]);
    expect(await ops.apply({ kind: "emitWithAck", target, ackId: "y", event: "ev", args: [], timeoutMs: 100 })).toEqual({ matched: 0 });
    expect(await ops.collectAcks("y")).toEqual({ responses: [], expected: -1 });
  });

  it("runs serverSideEmit listeners once and returns the first answer; none by the deadline means none", async () => {
    const calls: unknown[][] = [];
    const listener = (...args: unknown[]) => {
      calls.push(args.slice(0, -1));
      (args[args.length - 1] as (r: unknown) => void)(`answer-${calls.length}`);
    };
    const { ops, fireDeadlines } = fakeHost(["s1"], { ping: [listener, listener], silent: [() => {}] });
    expect(await ops.apply({ kind: "serverEmit", target, event: "ping", args: ["p"], ackTimeoutMs: 100 })).toEqual({
      matched: 2,
      responses: ["answer-1"],
    });
    expect(calls).toEqual([["p"], ["p"]]);
    const silent = ops.apply({ kind: "serverEmit", target, event: "silent", args: [], ackTimeoutMs: 100 });
    fireDeadlines();
    expect(await silent).toEqual({ matched: 1, responses: [] });
    expect(await ops.apply({ kind: "serverEmit", target, event: "none", args: [] })).toEqual({ matched: 0 });
  });
});

describe("TestStall", () => {
  it("is refused unless ENVIRONMENT=test, and holds calls only while stalled", async () => {
    expect(() => new TestStall(false).set(true)).toThrow(/ENVIRONMENT=test/);
    const stall = new TestStall(true);
    await stall.pass();
    stall.set(true);
    let passed = false;
    const held = stall.pass().then(() => (passed = true));
    await Promise.resolve();
    expect(passed).toBe(false);
    stall.set(false);
    await held;
    expect(passed).toBe(true);
  });

  it("applies a batch of emits in order, one count per emit, and commits held conflated values once", async () => {
    const { ops, frames, conflation } = fakeHost(["s1", "s2"]);
    const plain = (frame: string) => ({ kind: "emit" as const, target, frames: [frame] });
    const conflated = { ...plain("c"), conflate: { key: "AAPL", intervalMs: 100, event: "quote" } };
    const reply = await ops.apply({ kind: "batch", target, ops: [plain("a"), conflated, plain("b")] });
    expect(reply).toEqual({ matched: 6, matchedEach: [2, 2, 2] });
    expect(frames.map((f) => `${f.sid}:${f.frames[0]}`)).toEqual(["sid-s1:a", "sid-s2:a", "sid-s1:b", "sid-s2:b"]);
    expect(conflation.offered).toEqual([conflated]);
    expect(conflation.commits).toBe(1);
  });
});
