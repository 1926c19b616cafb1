/**
 * Per-connection token bucket: `burst` events at once, refilled at `perSecond`. Computed from
 * timestamps (no timers). Kept in the host's memory: an eviction refills the bucket, which
 * only ever errs on the generous side.
 */
export interface RateLimitOptions {
  burst: number;
  perSecond: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly options: RateLimitOptions) {}

  take(key: string, now = Date.now()): RateDecision {
    const { burst, perSecond } = this.options;
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / perSecond) * 1000) };
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }
}
