/**
 * Configuration of the HTTP API and of webhooks, read from wrangler `[vars]` and secrets and
 * validated with zod. Parsed once per env object, like worker/config.ts.
 */
import { z } from "zod";
import { ConfigError, perEnv, positiveInt } from "../config";


/** "a, b ,c" → ["a","b","c"]; a missing or empty value is an empty list. */
const commaList = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((value) => {
    if (value === undefined) return [];
    const list = Array.isArray(value) ? value : value.split(",");
    return list.map((entry) => entry.trim()).filter((entry) => entry.length > 0);
  });

const apiKey = z.string().min(16, "API keys must be at least 16 characters");

const ApiConfigSchema = z.object({
  /** Full-access keys; several at once so a key can be rotated without downtime. */
  API_KEYS: commaList.pipe(z.array(apiKey)),
  /** Keys that may only read (presence, users, health, delivery log). */
  API_READ_KEYS: commaList.pipe(z.array(apiKey)),
  /** Largest accepted request body in bytes, enforced while the body streams (413 beyond).
   *  At most 100 MB, Cloudflare's smallest per-request body limit. */
  API_MAX_BODY: z.coerce.number().int().min(1).max(100_000_000).default(1_000_000),
});

export interface ApiConfig {
  keys: string[];
  readKeys: string[];
  maxBody: number;
}

const WebhookConfigSchema = z
  .object({
    /** Every event is POSTed to each of these URLs. The first one answers client-event acks. */
    WEBHOOK_URLS: commaList.pipe(z.array(z.url({ protocol: /^https?$/ }))),
    WEBHOOK_SECRET: z.string().optional(),
    /** Client event names forwarded to the webhook, e.g. "order:place,chat:report". */
    WEBHOOK_CLIENT_EVENTS: commaList,
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

function parse<T extends z.ZodType>(schema: T, raw: Record<string, unknown>): z.output<T> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`));
  }
  return result.data;
}

export function parseApiConfig(raw: Record<string, unknown>): ApiConfig {
  const c = parse(ApiConfigSchema, raw);
  return { keys: c.API_KEYS, readKeys: c.API_READ_KEYS, maxBody: c.API_MAX_BODY };
}

export function parseWebhookConfig(raw: Record<string, unknown>): WebhookConfig {
  const c = parse(WebhookConfigSchema, raw);
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
export const apiConfigFrom = perEnv(parseApiConfig);
export const webhookConfigFrom = perEnv(parseWebhookConfig);
