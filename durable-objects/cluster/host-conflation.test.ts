import { describe, expect, it } from "vitest";
import type { EmitOp } from "../socketio/types";
import { type ConflationStorage, HostConflation, streamOf } from "./host-conflation";

/** A host with a fake clock, a fake alarm (deadlines fired by `advance`) and an in-memory "SQLite". */
function fakeHost(rows = new Map<string, { dueAt: number; op: EmitOp }>()) {
  let now = 1000;
  const delivered: Array<{ frame: unknown; at: number; conflate?: unknown }> = [];
  const deadlines: Array<{ at: number; fire: () => void; cancelled: boolean }> = [];
  const storage: ConflationStorage = {
    loadAll: () =>
      [...rows].map(([stream, row]) => ({ stream, dueAt: row.dueAt, intervalMs: row.op.conflate!.intervalMs, op: row.op, bytes: 1 })),
    save: (stream, dueAt, op) => rows.set(stream, { dueAt, op }),
    remove: (streams) => {
      for (const stream of streams) rows.delete(stream);
    },
  };
  const conflation = new HostConflation({
    storage,
    deliver: (op) => delivered.push({ frame: op.frames[0], at: now, conflate: op.conflate }),
    scheduleDeadline: (at, fire) => {
      const deadline = { at, fire, cancelled: false };
      deadlines.push(deadline);
      return () => (deadline.cancelled = true);
    },
    now: () => now,
  });
  const advance = (to: number) => {
    now = to;
    for (const deadline of deadlines.splice(0)) {
      if (deadline.cancelled) continue;
      if (deadline.at <= to) deadline.fire();
      else deadlines.push(deadline);
    }
  };
  const live = () => deadlines.filter((d) => !d.cancelled);
  return { conflation, delivered, rows, advance, live, setNow: (t: number) => (now = t) };
}

const quote = (key: string, value: string, rooms = ["quotes"]): EmitOp => ({
  kind: "emit",
  target: { nsp: "/", rooms, except: [] },
  frames: [value],
  conflate: { key, intervalMs: 100, event: "quote" },
});

describe("HostConflation", () => {
  it("delivers the leading edge at once, persists the held latest value and delivers it from the alarm", () => {
    const { conflation, delivered, rows, advance, live, setNow } = fakeHost();
    conflation.offer(quote("AAPL", "1"));
    setNow(1010);
    conflation.offer(quote("AAPL", "2"));
    conflation.offer(quote("AAPL", "3"));
    conflation.commit();
    expect(delivered).toEqual([{ frame: "1", at: 1000 }]); // sent without its conflation option
    expect([...rows.values()].map((row) => [row.dueAt, row.op.frames[0]])).toEqual([[1100, "3"]]);
    expect(live().map((d) => d.at)).toEqual([1100]);
    advance(1100);
    expect(delivered.map((d) => d.frame)).toEqual(["1", "3"]);
    expect(rows.size).toBe(0);
    expect(live()).toEqual([]);
  });

  it("keeps one alarm deadline for many keys, at the earliest held value", () => {
    const { conflation, advance, live, setNow, delivered } = fakeHost();
    for (const key of ["A", "B", "C"]) conflation.offer(quote(key, `${key}0`));
    setNow(1030);
    for (const key of ["A", "B", "C"]) conflation.offer(quote(key, `${key}1`));
    conflation.commit();
    expect(live().map((d) => d.at)).toEqual([1100]);
    advance(1100);
    expect(delivered.map((d) => d.frame)).toEqual(["A0", "B0", "C0", "A1", "B1", "C1"]);
  });

  it("streams differ by target and event: the same key to another room is not conflated with it", () => {
    expect(streamOf(quote("K", "x"))).not.toBe(streamOf(quote("K", "x", ["other"])));
    expect(streamOf(quote("K", "x", ["a", "b"]))).toBe(streamOf(quote("K", "y", ["b", "a"])));
    const { conflation, delivered } = fakeHost();
    conflation.offer(quote("K", "1"));
    conflation.offer(quote("K", "2", ["other"]));
    expect(delivered.map((d) => d.frame)).toEqual(["1", "2"]);
  });

  it("after an eviction the held value comes back from storage and is delivered when due", () => {
    const first = fakeHost();
    first.conflation.offer(quote("AAPL", "1"));
    first.setNow(1010);
    first.conflation.offer(quote("AAPL", "2"));
    first.conflation.commit();
    // The instance is gone; a new one starts from the same rows when the alarm wakes it.
    const second = fakeHost(first.rows);
    second.setNow(1500);
    second.conflation.load();
    second.advance(1500);
    expect(second.delivered.map((d) => d.frame)).toEqual(["2"]);
    expect(second.rows.size).toBe(0);
  });

  it("an emit without a conflation option is delivered straight away", () => {
    const { conflation, delivered, rows } = fakeHost();
    conflation.offer({ kind: "emit", target: { nsp: "/", rooms: [], except: [] }, frames: ["x"] });
    conflation.commit();
    expect(delivered.map((d) => d.frame)).toEqual(["x"]);
    expect(rows.size).toBe(0);
  });
});
