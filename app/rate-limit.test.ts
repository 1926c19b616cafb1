import { describe, expect, it, vi } from "vitest";
import { RateLimiter } from "./rate-limit";

// The clock is injected through take(key, now); no timers.
describe("RateLimiter", () => {
  it("allows a burst, then refuses with the time until the next token", () => {
    const limiter = new RateLimiter({ burst: 3, perSecond: 2 });
    expect([1, 2, 3].map(() => limiter.take("a", 0))).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(limiter.take("a", 0)).toEqual({ ok: false, retryAfterMs: 500 });
    expect(limiter.take("a", 200)).toEqual({ ok: false, retryAfterMs: 300 });
  });

  it("refills at perSecond, up to burst", () => {
    const limiter = new RateLimiter({ burst: 2, perSecond: 10 });
    limiter.take("a", 0);
    limiter.take("a", 0);
    expect(limiter.take("a", 50).ok).toBe(false);
    expect(limiter.take("a", 100).ok).toBe(true); // 100 ms at 10/s refills one token
    expect(limiter.take("a", 100).ok).toBe(false);
    // A long pause refills only up to the burst.
    expect([1, 2, 3].map(() => limiter.take("a", 60_000).ok)).toEqual([true, true, false]);
  });

  it("counts a refused attempt as no token spent", () => {
    const limiter = new RateLimiter({ burst: 1, perSecond: 1 });
    expect(limiter.take("a", 0).ok).toBe(true);
    for (let i = 0; i < 5; i++) expect(limiter.take("a", 0).ok).toBe(false);
    expect(limiter.take("a", 1_000).ok).toBe(true);
  });

  it("keeps one bucket per key, and forget() refills it", () => {
    const limiter = new RateLimiter({ burst: 1, perSecond: 1 });
    expect(limiter.take("a", 0).ok).toBe(true);
    expect(limiter.take("a", 0).ok).toBe(false);
    expect(limiter.take("b", 0).ok).toBe(true);
    limiter.forget("a");
    expect(limiter.take("a", 0).ok).toBe(true);
  });

  it("allows fractional rates", () => {
    const limiter = new RateLimiter({ burst: 1, perSecond: 0.5 });
    limiter.take("a", 0);
    expect(limiter.take("a", 0)).toEqual({ ok: false, retryAfterMs: 2_000 });
    expect(limiter.take("a", 1_999).ok).toBe(false);
    expect(limiter.take("a", 4_000).ok).toBe(true);
  });

  it("reads Date.now when no time is given", () => {
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      const limiter = new RateLimiter({ burst: 1, perSecond: 1 });
      expect(limiter.take("a").ok).toBe(true);
      expect(limiter.take("a")).toEqual({ ok: false, retryAfterMs: 1_000 });
      vi.advanceTimersByTime(1_000);
      expect(limiter.take("a").ok).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
