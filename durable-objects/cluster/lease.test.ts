import { describe, expect, it, vi } from "vitest";
import { LeaseRenewal } from "./lease";

function clock(last: number | null = null) {
  const state = { last };
  const setLastRenewal = (at: number) => {
    state.last = at;
  };
  return { state, clock: { lastRenewal: () => state.last, setLastRenewal } };
}

describe("LeaseRenewal", () => {
  it("is due at once, then one lease period after the last renewal", async () => {
    const { state, clock: c } = clock();
    const lease = new LeaseRenewal<number>(1_000, c);
    expect(lease.due(5_000)).toBe(true);
    await lease.run(5_000, [], async () => undefined);
    expect(state.last).toBe(5_000);
    expect(lease.due(5_999)).toBe(false);
    expect(lease.due(6_000)).toBe(true);
  });

  it("renews every report once, a bounded number at a time, and counts the failures", async () => {
    const { clock: c } = clock();
    const lease = new LeaseRenewal<number>(1_000, c);
    const seen: number[] = [];
    let inFlight = 0;
    let most = 0;
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const failed = await lease.run(0, [...Array(100).keys()], async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      seen.push(n);
      if (n % 10 === 0) throw new Error(`room ${n} down`);
    });
    error.mockRestore();
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(100).keys()]);
    expect(failed).toBe(10);
    expect(most).toBeLessThanOrEqual(32);
  });
});
