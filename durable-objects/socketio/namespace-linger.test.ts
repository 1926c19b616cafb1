import { describe, expect, it } from "vitest";
import { NamespaceLinger } from "./namespace-linger";

/** A scheduler the test fires by hand: what was scheduled, and whether it was cancelled. */
function manualSchedule() {
  const deadlines: Array<{ at: number; fire: () => void; cancelled: boolean }> = [];
  const schedule = (at: number, fire: () => void) => {
    const entry = { at, fire, cancelled: false };
    deadlines.push(entry);
    return () => {
      entry.cancelled = true;
    };
  };
  /** Fires every deadline not cancelled (as the alarm would once they are due). */
  const fireAll = () => {
    for (const entry of deadlines.splice(0)) if (!entry.cancelled) entry.fire();
  };
  return { deadlines, schedule, fireAll };
}

describe("NamespaceLinger", () => {
  it("keeps a host listed for the linger period: a socket back within it needs no call", () => {
    const clock = manualSchedule();
    const linger = new NamespaceLinger(60_000, clock.schedule);
    const left: string[] = [];
    const before = Date.now();
    linger.start("/", () => left.push("/"));
    expect(clock.deadlines[0].at).toBeGreaterThanOrEqual(before + 60_000);
    expect(linger.namespaces()).toEqual(["/"]);
    expect(linger.reuse("/")).toBe(true);
    expect(clock.deadlines[0].cancelled).toBe(true);
    clock.fireAll();
    expect(left).toEqual([]);
    expect(linger.namespaces()).toEqual([]);
    // Not lingering any more: the next first socket is an edge again.
    expect(linger.reuse("/")).toBe(false);
  });

  it("leaves once the period runs out, and only once", () => {
    const clock = manualSchedule();
    const linger = new NamespaceLinger(1_000, clock.schedule);
    const left: string[] = [];
    linger.start("/chat", () => left.push("/chat"));
    linger.start("/", () => left.push("/"));
    clock.fireAll();
    expect(left).toEqual(["/chat", "/"]);
    expect(linger.namespaces()).toEqual([]);
    expect(linger.reuse("/chat")).toBe(false);
  });

  it("a second start replaces the first: one leave, at the later deadline", () => {
    const clock = manualSchedule();
    const linger = new NamespaceLinger(1_000, clock.schedule);
    const left: number[] = [];
    linger.start("/", () => left.push(1));
    linger.start("/", () => left.push(2));
    expect(clock.deadlines.map((entry) => entry.cancelled)).toEqual([true, false]);
    clock.fireAll();
    expect(left).toEqual([2]);
  });

  it("a stale deadline that fires after a reuse does nothing", () => {
    const fires: Array<() => void> = [];
    // A scheduler whose cancel does not stop the fire (an alarm already running).
    const linger = new NamespaceLinger(1_000, (_at, fire) => {
      fires.push(fire);
      return () => undefined;
    });
    const left: string[] = [];
    linger.start("/", () => left.push("first"));
    expect(linger.reuse("/")).toBe(true);
    linger.start("/", () => left.push("second"));
    fires[0]();
    expect(left).toEqual([]);
    fires[1]();
    expect(left).toEqual(["second"]);
  });

  it("with a period of 0 it is off", () => {
    const clock = manualSchedule();
    expect(new NamespaceLinger(0, clock.schedule).enabled).toBe(false);
    expect(new NamespaceLinger(1, clock.schedule).enabled).toBe(true);
  });
});
