/**
 * The heartbeat grid: GRID_STEPS points per pingInterval, point k at floor(k × pingInterval /
 * GRID_STEPS) ms since the epoch. Point k + GRID_STEPS is exactly pingInterval after point k, so
 * a session pinged on its points is pinged exactly every pingInterval, and all sessions of a host
 * share the same few points: a host wakes at most GRID_STEPS times per pingInterval for pings
 * and pong checks together. Pure arithmetic (unit-tested in heartbeat-grid.test.ts).
 */

/** Grid points per pingInterval: pings are at most pingInterval / GRID_STEPS late. */
export const GRID_STEPS = 4;

export class HeartbeatGrid {
  constructor(private readonly interval: number) {}

  /** The time of point k (exact: k × interval stays far below 2^53, and ÷ 4 is exact). */
  time(k: number): number {
    return Math.floor((k * this.interval) / GRID_STEPS);
  }

  /** The first point at or after `t`. */
  pointAtOrAfter(t: number): number {
    let k = Math.ceil((t * GRID_STEPS) / this.interval);
    while (this.time(k - 1) >= t) k--;
    while (this.time(k) < t) k++;
    return k;
  }

  /** The last point at or before `t`. */
  pointAtOrBefore(t: number): number {
    let k = Math.floor((t * GRID_STEPS) / this.interval);
    while (this.time(k + 1) <= t) k++;
    while (this.time(k) > t) k--;
    return k;
  }

  /** A session's first ping: the first point at least one interval after its handshake. */
  firstPing(createdAt: number): number {
    return this.pointAtOrAfter(createdAt + this.interval);
  }

  /** A session's next ping point after point `done` (its pings are every GRID_STEPS points from the first). */
  nextPing(createdAt: number, done: number): number {
    const first = this.firstPing(createdAt);
    if (first > done) return first;
    const behind = (done + 1 - first) % GRID_STEPS;
    return behind === 0 ? done + 1 : done + 1 + GRID_STEPS - behind;
  }
}
