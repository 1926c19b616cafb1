import { describe, expect, it } from "vitest";
import { assertEmittable, MAX_ARG_DEPTH } from "../../durable-objects/socketio/emittable";

describe("assertEmittable", () => {
  it("accepts what JSON and binary attachments carry, shared (non-circular) references and a trailing ack", () => {
    const shared = { a: 1 };
    const args = [
      "text",
      1,
      NaN,
      null,
      undefined,
      true,
      new Date(0),
      new Uint8Array([1]),
      new ArrayBuffer(2),
      [shared, shared],
      { nested: { deep: [shared] } },
    ];
    expect(() => assertEmittable("ev", args, { ack: false })).not.toThrow();
    expect(() => assertEmittable("ev", [...args, () => undefined], { ack: true })).not.toThrow();
  });

  it("refuses a trailing function where no ack is possible, and functions anywhere else", () => {
    expect(() => assertEmittable("ev", [() => undefined], { ack: false })).toThrow(/argument 1 is a function/);
    expect(() => assertEmittable("ev", [() => undefined, "x"], { ack: true })).toThrow(/argument 1 is a function/);
    expect(() => assertEmittable("ev", [{ list: [1, { f: () => 1 }] }], { ack: true })).toThrow(/argument 1\.list\[1\]\.f is a function/);
  });

  it("refuses cycles and bounds the depth it walks", () => {
    const a: unknown[] = [];
    a.push({ back: a });
    expect(() => assertEmittable("ev", [a], { ack: false })).toThrow(/argument 1\[0\]\.back is a circular reference/);
    let deep: unknown = "leaf";
    for (let i = 0; i <= MAX_ARG_DEPTH; i++) deep = [deep];
    expect(() => assertEmittable("ev", [deep], { ack: false })).toThrow(/nested deeper than/);
  });

  it("throws TypeError for a non-string name and Error for a reserved one", () => {
    expect(() => assertEmittable({}, [], { ack: false })).toThrow(TypeError);
    expect(() => assertEmittable(undefined, [], { ack: false })).toThrow(/must be a string, got undefined/);
    try {
      assertEmittable("newListener", [], { ack: false });
      expect.unreachable();
    } catch (error) {
      expect(error).not.toBeInstanceOf(TypeError);
      expect((error as Error).message).toBe('"newListener" is a reserved event name');
    }
  });
});
