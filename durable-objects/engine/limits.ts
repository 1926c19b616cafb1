/**
 * Per-session resource limits of a ConnectionHost (README "Limits"). Each limit names the
 * reason a session is closed for, so logs, the client's close frame and the host's stats
 * all say the same thing.
 */

export type LimitName = "packets_per_post" | "packet_rate" | "queued_frames" | "queued_bytes" | "duplicate_connect";

/** What the client and the logs are told when a session is closed for a limit. */
export const LIMIT_MESSAGES: Record<LimitName, string> = {
  packets_per_post: "Too many packets in one payload",
  packet_rate: "Packet rate limit exceeded",
  queued_frames: "Too many queued frames (slow consumer)",
  queued_bytes: "Too many queued bytes (slow consumer)",
  duplicate_connect: "Namespace already connected",
};

/** WebSocket close code for a limit: 1008 (policy violation), readable reason. */
export const LIMIT_CLOSE_CODE = 1008;

/** A polling POST refused for a limit: `{"code":3,"message":…}` like Engine.IO's own errors. */
export function limitResponse(limit: LimitName): Response {
  const status = limit === "packets_per_post" ? 413 : 429;
  return new Response(JSON.stringify({ code: 3, message: LIMIT_MESSAGES[limit] }), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

/**
 * Token cost of one inbound Engine.IO packet: 1, plus 1 per 16 KiB, so a flood of large
 * messages is cut off as early (in parsing work) as a flood of small ones.
 */
export function packetCost(size: number): number {
  return 1 + Math.floor(size / 16_384);
}

/**
 * A token bucket per session, in memory: a flood is cut off within one instance's lifetime,
 * and an eviction (which a flood cannot cause on purpose) only refills it.
 */
export class PacketRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes `cost` tokens; false when the session has run out (it is then closed). */
  take(sid: string, cost: number, now = Date.now()): boolean {
    const bucket = this.buckets.get(sid) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) * this.perSecond) / 1000);
    bucket.at = now;
    this.buckets.set(sid, bucket);
    if (bucket.tokens < cost) return false;
    bucket.tokens -= cost;
    return true;
  }

  forget(sid: string): void {
    this.buckets.delete(sid);
  }
}

/** A WebSocket whose unsent bytes exceed this is not writable for `volatile` packets. */
export const VOLATILE_WS_BUFFERED_BYTES = 64 * 1024;

/** The runtime's unsent bytes for a WebSocket, where it reports them (0 otherwise). */
export function bufferedAmountOf(ws: WebSocket): number {
  const amount = (ws as { bufferedAmount?: unknown }).bufferedAmount;
  return typeof amount === "number" ? amount : 0;
}
