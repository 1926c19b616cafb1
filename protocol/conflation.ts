/**
 * Bounds of a conflated emit ("latest value per key, at most once per interval"), shared by the
 * HTTP API's schema, the handler API and the hosts that conflate (cluster/conflator.ts).
 */

/** Shortest interval: below it the host's alarm would wake for little gain. */
export const CONFLATE_MIN_INTERVAL_MS = 10;
/** Longest interval: a pending value waits at most this long (plus a quarter of it). */
export const CONFLATE_MAX_INTERVAL_MS = 60_000;
export const CONFLATE_MAX_KEY_LENGTH = 256;

export interface ConflateOption {
  /** What "the same value" means, e.g. a symbol: only the latest value per key is kept. */
  key: string;
  /** At most one delivery per interval per key (and target, event) to each member. */
  intervalMs: number;
}

/** Why `key` / `intervalMs` cannot be a conflation option, or null when they can. */
export function conflateProblem(key: unknown, intervalMs: unknown): string | null {
  if (typeof key !== "string" || key.length < 1 || key.length > CONFLATE_MAX_KEY_LENGTH) {
    return `conflation key must be a string of 1–${CONFLATE_MAX_KEY_LENGTH} characters`;
  }
  if (
    typeof intervalMs !== "number" ||
    !Number.isInteger(intervalMs) ||
    intervalMs < CONFLATE_MIN_INTERVAL_MS ||
    intervalMs > CONFLATE_MAX_INTERVAL_MS
  ) {
    return `conflation interval must be an integer of ${CONFLATE_MIN_INTERVAL_MS}–${CONFLATE_MAX_INTERVAL_MS} ms`;
  }
  return null;
}
