/**
 * Retry delay for webhook deliveries. Its own module (not in webhook-do.ts, which imports
 * `cloudflare:workers`) so it can be unit-tested in Node.
 */
import type { WebhookConfig } from "./config";

/** Exponential backoff with jitter: base · 2^(attempt-1), ±20%, capped. */
export function backoff(attempt: number, config: Pick<WebhookConfig, "retryBaseMs" | "retryMaxMs">): number {
  const delay = Math.min(config.retryMaxMs, config.retryBaseMs * 2 ** (attempt - 1));
  return Math.round(delay * (0.8 + Math.random() * 0.4));
}
