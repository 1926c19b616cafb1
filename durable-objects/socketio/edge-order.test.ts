import { describe, expect, it } from "vitest";
import { EdgeOrder } from "./edge-order";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("EdgeOrder", () => {
  it("starts an edge call only after every earlier call to the same key", async () => {
    const order = new EdgeOrder();
    const log: string[] = [];
    const first = deferred();
    const a = order.run("r", true, async () => {
      await first.promise;
      log.push("add");
    });
    const b = order.run("r", true, async () => void log.push("remove"));
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual([]);
    first.resolve();
    await Promise.all([a, b]);
    expect(log).toEqual(["add", "remove"]);
  });

  it("makes a non-edge call wait for the last edge, not for other non-edge calls", async () => {
    const order = new EdgeOrder();
    const log: string[] = [];
    const edge = deferred();
    const slow = deferred();
    const e = order.run("r", true, async () => {
      await edge.promise;
      log.push("edge");
    });
    const x = order.run("r", false, async () => {
      await slow.promise;
      log.push("x");
    });
    const y = order.run("r", false, async () => void log.push("y"));
    edge.resolve();
    await y;
    expect(log).toEqual(["edge", "y"]);
    slow.resolve();
    await Promise.all([e, x]);
  });

  it("keeps keys apart and survives a failed call", async () => {
    const order = new EdgeOrder();
    const blocked = deferred();
    const other = order.run("a", true, () => blocked.promise);
    await expect(order.run("b", true, async () => 1)).resolves.toBe(1);
    await expect(order.run("c", true, async () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    await expect(order.run("c", true, async () => 2)).resolves.toBe(2);
    blocked.resolve();
    await other;
  });
});
