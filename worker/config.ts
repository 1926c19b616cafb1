import { z } from "zod";

/**
 * Service configuration, read from wrangler `[vars]` and secrets.
 * Every value is validated here once; an invalid value fails loudly with the field's name.
 */

/** The default sid-signing secret. Convenient for `wrangler dev`, refused in production. */
export const DEV_SID_SECRET = "edgeio-dev-secret-do-not-use-in-production";

/** Shared var parsers (wrangler vars arrive as strings or numbers). */
export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** "a, b ,c" → ["a","b","c"]; also accepts a real array (vars may be JSON). */
export const commaList = (fallback: string[]) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((value) => {
      if (value === undefined) return fallback;
      const list = Array.isArray(value) ? value : value.split(",");
      return list.map((entry) => entry.trim()).filter((entry) => entry.length > 0);
    });

export const TRANSPORTS = ["polling", "websocket"] as const;
export type TransportName = (typeof TRANSPORTS)[number];

const ConfigSchema = z
  .object({
    ENVIRONMENT: z.enum(["development", "test", "production"]).default("development"),
    /** Engine.IO endpoint, like Socket.IO's `path` option. */
    EDGEIO_PATH: z
      .string()
      .regex(/^\/[A-Za-z0-9._~\-/]*$/, "must start with / and contain only URL path characters")
      .default("/socket.io/"),
    PING_INTERVAL: positiveInt(25_000),
    PING_TIMEOUT: positiveInt(20_000),
    /** Largest accepted message or POST body, in bytes (Socket.IO's `maxHttpBufferSize`). */
    MAX_PAYLOAD: positiveInt(1_000_000),
    CONNECT_TIMEOUT: positiveInt(45_000),
    /** Allowed browser origins; "*" allows any origin (reflected, so credentials still work). */
    CORS_ORIGINS: commaList(["*"]),
    /** ConnectionHosts per colo. Sessions are spread over them at random. */
    HOST_POOL_SIZE: z.coerce.number().int().min(1).max(1024).default(4),
    TRANSPORTS: commaList([...TRANSPORTS]).pipe(z.array(z.enum(TRANSPORTS)).min(1, "needs at least one transport")),
    SID_SECRET: z.string().min(16, "must be at least 16 characters").default(DEV_SID_SECRET),
    // Per-session bounds (README "Limits"): each one closes or refuses only the offending session.
    /** Namespaces one Engine.IO session may connect (one socket each); beyond → connect_error. */
    MAX_NAMESPACES_PER_SESSION: positiveInt(16),
    /** Engine.IO packets in one polling POST; beyond → 413 and the session closes. */
    MAX_PACKETS_PER_POST: positiveInt(2_000),
    /** Inbound token bucket per session: sustained packets per second and the burst allowed. */
    PACKET_RATE_PER_SECOND: positiveInt(100),
    PACKET_RATE_BURST: positiveInt(1_200),
    /** Outgoing frames / characters queued for one session (or WebSocket bufferedAmount bytes). */
    MAX_QUEUED_FRAMES: positiveInt(5_000),
    MAX_QUEUED_BYTES: positiveInt(4 * 1024 * 1024),
    /** Rooms one socket may be in (its own id not counted); beyond → the join is refused. */
    MAX_ROOMS_PER_SOCKET: positiveInt(256),
    /** Server→client acknowledgements awaited per socket; beyond → that emit throws. */
    MAX_PENDING_ACKS: positiveInt(1_000),
  })
  .superRefine((config, ctx) => {
    if (config.ENVIRONMENT === "production" && config.SID_SECRET === DEV_SID_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["SID_SECRET"],
        message: "the development default is refused when ENVIRONMENT=production; run `wrangler secret put SID_SECRET`",
      });
    }
  });

export interface EdgeioConfig {
  environment: "development" | "test" | "production";
  path: string;
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
  connectTimeout: number;
  corsOrigins: string[];
  hostPoolSize: number;
  transports: TransportName[];
  sidSecret: string;
  limits: SessionLimits;
}

export interface SessionLimits {
  namespacesPerSession: number;
  packetsPerPost: number;
  packetRatePerSecond: number;
  packetRateBurst: number;
  queuedFrames: number;
  queuedBytes: number;
  roomsPerSocket: number;
  pendingAcks: number;
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`edgeio: invalid configuration:\n  - ${issues.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** Parses raw env values. Throws ConfigError naming each bad field. */
export function parseConfig(raw: Record<string, unknown>): EdgeioConfig {
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`));
  }
  const c = result.data;
  return {
    environment: c.ENVIRONMENT,
    path: c.EDGEIO_PATH.endsWith("/") ? c.EDGEIO_PATH : `${c.EDGEIO_PATH}/`,
    pingInterval: c.PING_INTERVAL,
    pingTimeout: c.PING_TIMEOUT,
    maxPayload: c.MAX_PAYLOAD,
    connectTimeout: c.CONNECT_TIMEOUT,
    corsOrigins: c.CORS_ORIGINS,
    hostPoolSize: c.HOST_POOL_SIZE,
    transports: c.TRANSPORTS,
    sidSecret: c.SID_SECRET,
    limits: {
      namespacesPerSession: c.MAX_NAMESPACES_PER_SESSION,
      packetsPerPost: c.MAX_PACKETS_PER_POST,
      packetRatePerSecond: c.PACKET_RATE_PER_SECOND,
      packetRateBurst: c.PACKET_RATE_BURST,
      queuedFrames: c.MAX_QUEUED_FRAMES,
      queuedBytes: c.MAX_QUEUED_BYTES,
      roomsPerSocket: c.MAX_ROOMS_PER_SOCKET,
      pendingAcks: c.MAX_PENDING_ACKS,
    },
  };
}

/**
 * Parses once per env object (the runtime hands the same object to every request of an
 * isolate). Every configuration module uses this.
 */
export function perEnv<T>(parse: (raw: Record<string, unknown>) => T): (env: object) => T {
  const cache = new WeakMap<object, T>();
  return (env) => {
    let value = cache.get(env);
    if (value === undefined) {
      value = parse(env as Record<string, unknown>);
      cache.set(env, value);
    }
    return value;
  };
}

export const configFrom = perEnv(parseConfig);
