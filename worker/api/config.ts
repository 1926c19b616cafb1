/**
 * Configuration of the HTTP API, read from wrangler `[vars]` and secrets and validated with
 * zod. Parsed once per env object, like durable-objects/config.ts.
 */
import { z } from "zod";
import { commaList, ConfigError, issueList, perEnv } from "../../protocol/config-vars";

const apiKey = z.string().min(16, "API keys must be at least 16 characters");

const ApiConfigSchema = z.object({
  /** Full-access keys; several at once so a key can be rotated without downtime. */
  API_KEYS: commaList([]).pipe(z.array(apiKey)),
  /** Keys that may only read (presence, users, health, delivery log). */
  API_READ_KEYS: commaList([]).pipe(z.array(apiKey)),
  /** Largest accepted request body in bytes, enforced while the body streams (413 beyond).
   *  At most 100 MB, Cloudflare's smallest per-request body limit. */
  API_MAX_BODY: z.coerce.number().int().min(1).max(100_000_000).default(1_000_000),
});

export interface ApiConfig {
  keys: string[];
  readKeys: string[];
  maxBody: number;
}

function parse<T extends z.ZodType>(schema: T, raw: Record<string, unknown>): z.output<T> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(issueList(result.error));
  }
  return result.data;
}

export function parseApiConfig(raw: Record<string, unknown>): ApiConfig {
  const c = parse(ApiConfigSchema, raw);
  return { keys: c.API_KEYS, readKeys: c.API_READ_KEYS, maxBody: c.API_MAX_BODY };
}

/** Throws ConfigError naming each bad field. */
export const apiConfigFrom = perEnv(parseApiConfig);
