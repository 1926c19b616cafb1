import { describe, expect, it } from "vitest";
import { GRID_STEPS, HeartbeatGrid } from "./heartbeat-grid";

const NOW = 1_790_000_000_123;

describe("heartbeat grid", () => {
  for (const interval of [300, 1000, 25_000, 25_001, 60_007]) {
    const grid = new HeartbeatGrid(interval);

    it(`interval ${interval}: points are exactly one interval apart every ${GRID_STEPS} steps`, () => {
      const k = grid.pointAtOrAfter(NOW);
      for (let i = 0; i < 20; i++) expect(grid.time(k + i + GRID_STEPS) - grid.time(k + i)).toBe(interval);
    });

    it(`interval ${interval}: pointAtOrAfter / pointAtOrBefore bracket any time`, () => {
      for (let t = NOW; t < NOW + 3 * interval; t += 97) {
        const after = grid.pointAtOrAfter(t);
        const before = grid.pointAtOrBefore(t);
        expect(grid.time(after)).toBeGreaterThanOrEqual(t);
        expect(grid.time(after - 1)).toBeLessThan(t);
        expect(grid.time(before)).toBeLessThanOrEqual(t);
        expect(grid.time(before + 1)).toBeGreaterThan(t);
      }
    });

    it(`interval ${interval}: the first ping is never before one interval, and at most a step after`, () => {
      for (let created = NOW; created < NOW + interval; created += 13) {
        const at = grid.time(grid.firstPing(created));
        expect(at - created).toBeGreaterThanOrEqual(interval);
        expect(at - created).toBeLessThanOrEqual(interval + Math.ceil(interval / GRID_STEPS));
      }
    });

    it(`interval ${interval}: nextPing walks a session's own points, one interval apart`, () => {
      const created = NOW + 5;
      let done = grid.pointAtOrBefore(NOW);
      const times: number[] = [];
      for (let i = 0; i < 6; i++) {
        const next = grid.nextPing(created, done);
        expect(next).toBeGreaterThan(done);
        times.push(grid.time(next));
        done = next + (i % GRID_STEPS); // wakes for other sessions' points in between
      }
      expect(times[0]).toBe(grid.time(grid.firstPing(created)));
      for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(interval);
    });
  }
});
