import { describe, expect, it } from "vitest";
import { Conflator, dueOnGrid } from "./conflator";

const limits = { maxStreams: 100, maxPendingBytes: 1_000_000 };

/** Drives a conflator with a fake clock: `offer` at a time, `tick` to a time (sending what is due). */
function harness(conflatorLimits = limits) {
  const conflator = new Conflator<number>(conflatorLimits);
  const sent: Array<{ key: string; value: number; at: number }> = [];
  const offer = (key: string, value: number, at: number, intervalMs = 100) => {
    const outcome = conflator.offer(key, intervalMs, value, at, 8);
    if (outcome.action === "send") sent.push({ key, value, at });
    return outcome;
  };
  const tick = (at: number) => {
    for (const { key, value } of conflator.takeDue(at)) sent.push({ key, value, at });
  };
  return { conflator, sent, offer, tick };
}

describe("Conflator", () => {
  it("sends a quiet key's first value at once, holds the rest and sends the latest at the interval's end", () => {
    const { sent, offer, tick, conflator } = harness();
    expect(offer("AAPL", 1, 1000)).toEqual({ action: "send" });
    expect(offer("AAPL", 2, 1010)).toEqual({ action: "hold", dueAt: 1100 });
    expect(offer("AAPL", 3, 1050)).toEqual({ action: "hold", dueAt: 1100 });
    expect(conflator.nextDueAt()).toBe(1100);
    tick(1099);
    expect(sent.map((s) => s.value)).toEqual([1]);
    tick(1100);
    expect(sent).toEqual([
      { key: "AAPL", value: 1, at: 1000 },
      { key: "AAPL", value: 3, at: 1100 },
    ]);
    expect(conflator.nextDueAt()).toBeNull();
  });

  it("keys are independent: each gets its own leading edge and latest value", () => {
    const { sent, offer, tick } = harness();
    offer("A", 1, 0);
    offer("B", 10, 5);
    offer("A", 2, 20);
    offer("B", 11, 30);
    offer("B", 12, 40);
    tick(200);
    expect(sent.map((s) => `${s.key}${s.value}`)).toEqual(["A1", "B10", "A2", "B12"]);
  });

  it("a steady stream of updates goes out at most once per interval and ends on the latest value", () => {
    const { sent, offer, tick } = harness();
    // 1000 updates every 1 ms for 1 s, alarm ticks every 7 ms (and late by up to 6 ms).
    for (let t = 0; t < 1000; t++) {
      offer("K", t, t);
      if (t % 7 === 0) tick(t);
    }
    tick(2000);
    const times = sent.map((s) => s.at);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(100);
    expect(sent.length).toBeLessThanOrEqual(11);
    expect(sent.length).toBeGreaterThanOrEqual(8);
    expect(sent.at(-1)?.value).toBe(999);
  });

  it("rounds trailing edges up to a quarter-interval grid, so keys share alarm wakes", () => {
    expect(dueOnGrid(1003, 100)).toBe(1025);
    expect(dueOnGrid(1025, 100)).toBe(1025);
    expect(dueOnGrid(7, 10)).toBe(9);
    const { offer } = harness();
    offer("A", 1, 1003);
    offer("B", 1, 1017);
    expect(offer("A", 2, 1004)).toEqual({ action: "hold", dueAt: 1125 });
    expect(offer("B", 2, 1020)).toEqual({ action: "hold", dueAt: 1125 });
  });

  it("a key quiet for a whole interval sends at once again", () => {
    const { offer, tick, sent } = harness();
    offer("K", 1, 0);
    offer("K", 2, 50);
    tick(100);
    expect(offer("K", 3, 150)).toEqual({ action: "hold", dueAt: 200 });
    tick(200);
    expect(offer("K", 4, 400)).toEqual({ action: "send" });
    expect(sent.map((s) => s.value)).toEqual([1, 2, 3, 4]);
  });

  it("restored values (after an eviction) are due at their time, and newer offers replace them", () => {
    const { conflator, offer, tick, sent } = harness();
    conflator.restore("K", 100, 7, 500);
    expect(conflator.nextDueAt()).toBe(500);
    expect(offer("K", 8, 450)).toEqual({ action: "hold", dueAt: 500 });
    tick(500);
    expect(sent).toEqual([{ key: "K", value: 8, at: 500 }]);
  });

  it("beyond its stream limit it forgets idle streams first, then sends unconflated rather than drop", () => {
    const { offer, tick, conflator } = harness({ maxStreams: 2, maxPendingBytes: 1_000_000 });
    offer("A", 1, 0);
    offer("B", 1, 0);
    offer("A", 2, 10); // A holds a value: it cannot be forgotten
    expect(offer("C", 1, 20)).toEqual({ action: "send", overflow: true });
    tick(100);
    expect(offer("C", 1, 250)).toEqual({ action: "send" }); // A and B idle by then: forgotten
    expect(conflator.size).toBe(1);
  });

  it("beyond its pending-bytes limit it sends unconflated", () => {
    const { offer, conflator } = harness({ maxStreams: 10, maxPendingBytes: 10 });
    offer("A", 1, 0);
    offer("B", 1, 0);
    expect(offer("A", 2, 1)).toEqual({ action: "hold", dueAt: 100 });
    expect(offer("B", 2, 1)).toEqual({ action: "send", overflow: true });
    expect(conflator.pendingCount).toBe(1);
  });
});
