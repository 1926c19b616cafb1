import { describe, expect, it } from "vitest";
import { HandOverBuffers, mergeHandOver, TestHold } from "./hand-over";

const packet = (op: string | undefined, text: string) => (op === undefined ? { frames: [text] } : { op, frames: [text] });
const BOUNDS = { maxPackets: 3, maxBytes: 1000 };

describe("mergeHandOver", () => {
  it("keeps the other host's log, then what was held here and not logged there, each once", () => {
    const logged = [packet("a", "1"), packet("b", "2"), packet("c", "3")];
    const held = [packet("b", "2'"), packet("c", "3'"), packet("d", "4"), packet(undefined, "5")];
    expect(mergeHandOver(logged, held).map((p) => p.frames[0])).toEqual(["1", "2", "3", "4", "5"]);
  });

  it("with nothing logged there, delivers everything held here", () => {
    expect(mergeHandOver([], [packet("x", "1")]).map((p) => p.frames[0])).toEqual(["1"]);
  });
});

describe("HandOverBuffers", () => {
  it("holds only sockets being handed in, in order, until stopped", () => {
    const buffers = new HandOverBuffers();
    expect(buffers.hold("s1", ["a"], "op1", BOUNDS)).toBe(false);
    buffers.start("s1");
    expect(buffers.has("s1")).toBe(true);
    expect(buffers.hold("s1", ["a"], "op1", BOUNDS)).toBe(true);
    expect(buffers.hold("s1", ["b"], undefined, BOUNDS)).toBe(true);
    expect(buffers.stop("s1")).toEqual([packet("op1", "a"), packet(undefined, "b")]);
    expect(buffers.has("s1")).toBe(false);
  });

  it("fails the hand-over past maxPackets or maxBytes (null), still holding so nothing is sent out of order", () => {
    const buffers = new HandOverBuffers();
    buffers.start("s1");
    for (const n of [1, 2, 3]) buffers.hold("s1", [`${n}`], `op${n}`, BOUNDS);
    expect(buffers.hold("s1", ["4"], "op4", BOUNDS)).toBe(true);
    expect(buffers.stop("s1")).toBeNull();
    buffers.start("s2");
    expect(buffers.hold("s2", ["x".repeat(1001)], "big", BOUNDS)).toBe(true);
    expect(buffers.stop("s2")).toBeNull();
  });
});

describe("TestHold", () => {
  it("lets hand-overs through until set, then holds them until released", async () => {
    const hold = new TestHold();
    await hold.pass();
    hold.set(true);
    let passed = false;
    const waiting = hold.pass().then(() => (passed = true));
    expect(hold.held).toBe(1);
    await Promise.resolve();
    expect(passed).toBe(false);
    hold.set(false);
    await waiting;
    expect(passed).toBe(true);
    expect(hold.held).toBe(0);
  });
});
