/**
 * Webhook configuration (WEBHOOK_* vars), validated with zod and parsed once per env object.
 * Read by the WebhookDO, the event queue and the client-event forwarder.
 */
import { z } from "zod";
import { commaList, ConfigError, issueList, perEnv, positiveInt } from "../../protocol/config-vars";

const WebhookConfigSchema = z
  .object({
    /** Every event is POSTed to each of these URLs. The first one answers client-event acks. */
    WEBHOOK_URLS: commaList([]).pipe(z.array(z.url({ protocol: /^https?$/ }))),
    WEBHOOK_SECRET: z.string().optional(),
    /** Client event names forwarded to the webhook, e.g. "order:place,chat:report". */
    WEBHOOK_CLIENT_EVENTS: commaList([]),
    /** Attempts per event and URL before it is logged as failed. */
    WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
    /** First retry delay; each further retry doubles it (with jitter), up to WEBHOOK_RETRY_MAX_MS. */
    WEBHOOK_RETRY_BASE_MS: positiveInt(1_000),
    WEBHOOK_RETRY_MAX_MS: positiveInt(600_000),
    /** How long one POST may take. */
    WEBHOOK_TIMEOUT_MS: positiveInt(10_000),
    /** Delivery attempts remembered per webhook shard. */
    WEBHOOK_LOG_SIZE: z.coerce.number().int().min(1).max(10_000).default(200),
    /** WebhookDO instances events are spread over (by room or user, so their order is kept). */
    WEBHOOK_SHARDS: z.coerce.number().int().min(1).max(256).default(4),
  })
  .superRefine((config, ctx) => {
    if (config.WEBHOOK_URLS.length > 0 && (config.WEBHOOK_SECRET ?? "").length < 16) {
      ctx.addIssue({
        code: "custom",
        path: ["WEBHOOK_SECRET"],
        message: "must be at least 16 characters when WEBHOOK_URLS is set (`wrangler secret put WEBHOOK_SECRET`)",
      });
    }
  });

export interface WebhookConfig {
  urls: string[];
  secret: string;
  clientEvents: string[];
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  timeoutMs: number;
  logSize: number;
  shards: number;
}

export function parseWebhookConfig(raw: Record<string, unknown>): WebhookConfig {
  const result = WebhookConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(issueList(result.error));
  const c = result.data;
  return {
    urls: c.WEBHOOK_URLS,
    secret: c.WEBHOOK_SECRET ?? "",
    clientEvents: c.WEBHOOK_CLIENT_EVENTS,
    maxAttempts: c.WEBHOOK_MAX_ATTEMPTS,
    retryBaseMs: c.WEBHOOK_RETRY_BASE_MS,
    retryMaxMs: c.WEBHOOK_RETRY_MAX_MS,
    timeoutMs: c.WEBHOOK_TIMEOUT_MS,
    logSize: c.WEBHOOK_LOG_SIZE,
    shards: c.WEBHOOK_SHARDS,
  };
}

/** Throws ConfigError naming each bad field. */
export const webhookConfigFrom = perEnv(parseWebhookConfig);
