import { describe, expect, it } from "vitest";
import { BusySessions } from "./busy-sessions";

describe("BusySessions", () => {
  it("a session is busy for the window after a POST with more than a pong", () => {
    const busy = new BusySessions(2000);
    expect(busy.isBusy("a", 0)).toBe(false);
    busy.posted("a", '42["count"]', 1000);
    expect(busy.isBusy("a", 1000)).toBe(true);
    expect(busy.isBusy("a", 3000)).toBe(true);
    expect(busy.isBusy("a", 3001)).toBe(false);
    expect(busy.isBusy("b", 1000)).toBe(false);
  });

  it("a lone pong (v4 or v3) does not make a session busy, nor keep it so", () => {
    const busy = new BusySessions(2000);
    busy.posted("a", "3", 0);
    busy.posted("b", "1:3", 0);
    expect(busy.isBusy("a", 0)).toBe(false);
    expect(busy.isBusy("b", 0)).toBe(false);
    busy.posted("a", "40", 0);
    busy.posted("a", "3", 1500);
    expect(busy.isBusy("a", 2500)).toBe(false);
  });

  it("binary and failed bodies count as traffic", () => {
    const busy = new BusySessions(2000);
    busy.posted("a", new Uint8Array([4]), 0);
    busy.posted("b", { failed: 400 }, 0);
    expect(busy.isBusy("a", 0)).toBe(true);
    expect(busy.isBusy("b", 0)).toBe(true);
  });

  it("remembers at most `max` sessions, the oldest POST out first", () => {
    const busy = new BusySessions(2000, 2);
    busy.posted("a", "40", 0);
    busy.posted("b", "40", 0);
    busy.posted("a", "40", 1); // a is now the newest
    busy.posted("c", "40", 2);
    expect(busy.isBusy("a", 2)).toBe(true);
    expect(busy.isBusy("b", 2)).toBe(false);
    expect(busy.isBusy("c", 2)).toBe(true);
  });

  it("forget makes a session idle at once", () => {
    const busy = new BusySessions(2000);
    busy.posted("a", "40", 0);
    busy.forget("a");
    expect(busy.isBusy("a", 1)).toBe(false);
  });
});
