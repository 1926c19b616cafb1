/**
 * Configuration of the default app (authentication, join policy, relay, rate limit), read from
 * wrangler `[vars]` and secrets. Presence settings belong to the core (durable-objects/presence/
 * config.ts); they are included here so the app sees the limits RoomDO enforces.
 */
import { z } from "zod";
import { environmentSchema, type Environment } from "../durable-objects/config";
import { presenceConfigFrom, type PresenceConfig } from "../durable-objects/presence/config";
import { recoveryEnvSchema } from "../durable-objects/recovery/options";
import { commaList, ConfigError, issueList, perEnv, positiveInt } from "../protocol/config-vars";

export { matchesPattern } from "../durable-objects/presence/config";

/** HS256 secret used by `wrangler dev` when JWT_SECRET is unset; never used in production. */
export const DEV_JWT_SECRET = "edgeio-dev-jwt-secret-do-not-use-in-production";

export const JWT_ALGORITHMS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
export const JOIN_RULES = ["open", "claim", "webhook", "closed"] as const;
export type JoinRule = (typeof JOIN_RULES)[number];

const flag = z
  .union([z.boolean(), z.enum(["true", "false", "1", "0"])])
  .optional()
  .transform((value) => (value === undefined ? undefined : value === true || value === "true" || value === "1"));

const nonNegativeInt = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

/** A claim name: printable, no spaces (namespaced claims such as "https://example.com/uid" are fine). */
const ClaimName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e]+$/, "a claim name is printable ASCII without spaces");

/** Header names the auth webhook may receive besides `cookie` (lower-cased; a few at most). */
const HeaderNames = commaList([]).pipe(
  z
    .array(
      z
        .string()
        .regex(/^[A-Za-z0-9-]+$/, "header names are letters, digits and -")
        .transform((name) => name.toLowerCase()),
    )
    .max(16, "at most 16 headers"),
);

/** JOIN_POLICY: `{"stream:*":"open","conversation:*":"claim"}`, a JSON string or an object (TOML table). */
const JoinPolicySchema = z
  .union([z.string(), z.record(z.string(), z.unknown())])
  .optional()
  .transform((value, ctx) => {
    if (value === undefined) return undefined;
    if (typeof value !== "string") return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: 'must be JSON, e.g. {"stream:*":"open"}' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().min(1), z.enum(JOIN_RULES)).optional());

const AppConfigSchema = z
  .object({
    /** Same reading as durable-objects/config.ts: unset means production. */
    ENVIRONMENT: environmentSchema,
    JWT_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
    JWT_ALGORITHMS: commaList([]).pipe(z.array(z.enum(JWT_ALGORITHMS))),
    JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** Minimum time between two JWKS fetches triggered by unknown key ids. */
    JWT_JWKS_COOLDOWN_MS: nonNegativeInt(30_000),
    JWT_ISSUER: z.string().min(1).optional(),
    JWT_AUDIENCE: z.string().min(1).optional(),
    /** Seconds of clock skew tolerated on exp/nbf/iat. */
    JWT_CLOCK_TOLERANCE: nonNegativeInt(30),
    /** The claim that holds the user id (e.g. "userId"); validated like `sub`. */
    JWT_USER_CLAIM: ClaimName.default("sub"),
    /** Extra claims copied into socket.data.user (the JOIN_CLAIM claim is always copied). */
    JWT_USER_CLAIMS: commaList(["roles"]),
    ALLOW_GUESTS: flag,
    /** Asked for the user when a handshake has no JWT (session cookies): see app/auth-webhook.ts. */
    AUTH_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
    AUTH_WEBHOOK_HEADERS: HeaderNames,
    AUTH_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(3_000),
    /** How long an answer is reused (0: never); bounded so a revoked session stops working soon. */
    AUTH_WEBHOOK_CACHE_TTL_MS: z.coerce.number().int().min(0).max(300_000).default(30_000),
    AUTH_WEBHOOK_CACHE_SIZE: z.coerce.number().int().min(0).max(100_000).default(1_000),
    /** The webhook signing secret (also the WebhookDO's): signs the auth and join webhooks. */
    WEBHOOK_SECRET: z.string().optional(),
    JOIN_POLICY: JoinPolicySchema,
    JOIN_CLAIM: z.string().min(1).default("rooms"),
    JOIN_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
    JOIN_WEBHOOK_SECRET: z.string().min(16).optional(),
    JOIN_WEBHOOK_TIMEOUT_MS: positiveInt(3_000),
    RELAY_EVENTS: commaList(["typing:start", "typing:stop", "message:new"]),
    /** Token bucket per connection: RATE_LIMIT_BURST events at once, refilled at RATE_LIMIT_PER_SECOND. */
    RATE_LIMIT_BURST: positiveInt(30),
    RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(10),
    /** Connection-state recovery for the default app (0: off); see durable-objects/recovery/options.ts. */
    ...recoveryEnvSchema.shape,
  })
  .superRefine((c, ctx) => {
    if (c.ENVIRONMENT === "production" && c.JWT_SECRET === DEV_JWT_SECRET) {
      ctx.addIssue({ code: "custom", path: ["JWT_SECRET"], message: "the development secret cannot be used in production" });
    }
    for (const alg of c.JWT_ALGORITHMS) {
      if (alg.startsWith("HS") && !c.JWT_SECRET && c.ENVIRONMENT === "production") {
        ctx.addIssue({ code: "custom", path: ["JWT_ALGORITHMS"], message: `${alg} needs JWT_SECRET` });
      }
      if (!alg.startsWith("HS") && !c.JWT_JWKS_URL) {
        ctx.addIssue({ code: "custom", path: ["JWT_ALGORITHMS"], message: `${alg} needs JWT_JWKS_URL` });
      }
    }
    if (c.AUTH_WEBHOOK_URL && (c.WEBHOOK_SECRET ?? "").length < 16) {
      ctx.addIssue({
        code: "custom",
        path: ["WEBHOOK_SECRET"],
        message: "must be at least 16 characters when AUTH_WEBHOOK_URL is set (it signs the auth webhook)",
      });
    }
    const rules = Object.values(c.JOIN_POLICY ?? {});
    if (rules.includes("webhook") && !c.JOIN_WEBHOOK_URL) {
      ctx.addIssue({ code: "custom", path: ["JOIN_POLICY"], message: 'a "webhook" rule needs JOIN_WEBHOOK_URL' });
    }
  });

export interface AuthConfig {
  /** null: HS* tokens are not accepted. */
  secret: string | null;
  jwksUrl: string | null;
  jwksCooldownMs: number;
  /** Pinned: a token whose header names any other algorithm (or "none") is refused. */
  algorithms: JwtAlgorithm[];
  issuer?: string;
  audience?: string;
  clockTolerance: number;
  /** The claim holding the user id (JWT_USER_CLAIM, default "sub"). */
  userClaim: string;
  userClaims: string[];
  allowGuests: boolean;
  /** The authentication webhook (AUTH_WEBHOOK_URL), or null. */
  webhook: AuthWebhookConfig | null;
}

export interface AuthWebhookConfig {
  url: string;
  /** WEBHOOK_SECRET: the request is signed like every edgeio webhook. */
  secret: string;
  /** Headers forwarded besides `cookie` (lower-case names). */
  headers: string[];
  timeoutMs: number;
  cacheTtlMs: number;
  cacheSize: number;
}

export interface AppConfig {
  environment: Environment;
  auth: AuthConfig;
  presence: PresenceConfig;
  joinPolicy: Array<{ pattern: string; rule: JoinRule }>;
  joinClaim: string;
  joinWebhook: { url: string; secret: string | null; timeoutMs: number } | null;
  relayEvents: string[];
  rateLimit: { burst: number; perSecond: number };
}

/** The default join policy: public streams open, conversations by token claim, anything else open. */
export const DEFAULT_JOIN_POLICY = { "conversation:*": "claim", "*": "open" } as const;

export function parseAppConfig(raw: Record<string, unknown>): AppConfig {
  const result = AppConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(issueList(result.error));
  }
  const c = result.data;
  const production = c.ENVIRONMENT === "production";
  const secret = c.JWT_SECRET ?? (production ? null : DEV_JWT_SECRET);
  const algorithms: JwtAlgorithm[] =
    c.JWT_ALGORITHMS.length > 0
      ? c.JWT_ALGORITHMS
      : [...(secret ? (["HS256"] as const) : []), ...(c.JWT_JWKS_URL ? (["RS256", "ES256"] as const) : [])];
  const policy = c.JOIN_POLICY ?? DEFAULT_JOIN_POLICY;
  return {
    environment: c.ENVIRONMENT,
    auth: {
      secret,
      jwksUrl: c.JWT_JWKS_URL ?? null,
      jwksCooldownMs: c.JWT_JWKS_COOLDOWN_MS,
      algorithms,
      issuer: c.JWT_ISSUER,
      audience: c.JWT_AUDIENCE,
      clockTolerance: c.JWT_CLOCK_TOLERANCE,
      userClaim: c.JWT_USER_CLAIM,
      userClaims: [...new Set([...c.JWT_USER_CLAIMS, c.JOIN_CLAIM])],
      // Guests only when asked for, in development too: a client whose credential the app cannot
      // read (a cookie without AUTH_WEBHOOK_URL) must get an error, not silently become a guest.
      allowGuests: c.ALLOW_GUESTS ?? false,
      webhook: c.AUTH_WEBHOOK_URL
        ? {
            url: c.AUTH_WEBHOOK_URL,
            secret: c.WEBHOOK_SECRET ?? "",
            headers: c.AUTH_WEBHOOK_HEADERS,
            timeoutMs: c.AUTH_WEBHOOK_TIMEOUT_MS,
            cacheTtlMs: c.AUTH_WEBHOOK_CACHE_TTL_MS,
            cacheSize: c.AUTH_WEBHOOK_CACHE_SIZE,
          }
        : null,
    },
    presence: presenceConfigFrom(raw),
    joinPolicy: Object.entries(policy).map(([pattern, rule]) => ({ pattern, rule })),
    joinClaim: c.JOIN_CLAIM,
    // One signature format for every webhook: JOIN_WEBHOOK_SECRET, if set, only overrides the key.
    joinWebhook: c.JOIN_WEBHOOK_URL
      ? {
          url: c.JOIN_WEBHOOK_URL,
          secret: c.JOIN_WEBHOOK_SECRET ?? (c.WEBHOOK_SECRET ? c.WEBHOOK_SECRET : null),
          timeoutMs: c.JOIN_WEBHOOK_TIMEOUT_MS,
        }
      : null,
    relayEvents: c.RELAY_EVENTS,
    rateLimit: { burst: c.RATE_LIMIT_BURST, perSecond: c.RATE_LIMIT_PER_SECOND },
  };
}

/** Parses once per env object. */
export const appConfigFrom = perEnv(parseAppConfig);
