/**
 * Service configuration, read from wrangler `[vars]` and secrets.
 * Every value is validated here once; an invalid value fails loudly with the field's name.
 */
import { z } from "zod";
import { booleanFlag, commaList, ConfigError, issueList, perEnv, positiveInt } from "../protocol/config-vars";

/** The default sid-signing secret. Convenient for `wrangler dev`, refused in production. */
export const DEV_SID_SECRET = "edgeio-dev-secret-do-not-use-in-production";

/**
 * Where the service runs. Unset means production: every development convenience (the dev
 * secrets, /dev/token, guests, /_edgeio/*, any CORS origin) must be chosen explicitly, as
 * `npm run dev` does with `--var ENVIRONMENT:development`.
 */
export const ENVIRONMENTS = ["development", "test", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
export const environmentSchema = z.enum(ENVIRONMENTS).default("production");

/** The shortest PING_INTERVAL / PING_TIMEOUT accepted, ms. */
export const MIN_HEARTBEAT_MS = 100;
/** The longest delay a JavaScript timer takes (2^31 − 1 ms); socket.io-client arms one for pingInterval + pingTimeout. */
const MAX_CLIENT_TIMER_MS = 2_147_483_647;

export const TRANSPORTS = ["polling", "websocket"] as const;
export type TransportName = (typeof TRANSPORTS)[number];

const ConfigSchema = z
  .object({
    ENVIRONMENT: environmentSchema,
    /** Engine.IO endpoint, like Socket.IO's `path` option. */
    EDGEIO_PATH: z
      .string()
      .regex(/^\/[A-Za-z0-9._~\-/]*$/, "must start with / and contain only URL path characters")
      .default("/socket.io/"),
    /** Heartbeat, ms. Below MIN_HEARTBEAT_MS a host would spend its time pinging. */
    PING_INTERVAL: positiveInt(25_000).pipe(z.number().min(MIN_HEARTBEAT_MS, `must be at least ${MIN_HEARTBEAT_MS} ms`)),
    PING_TIMEOUT: positiveInt(20_000).pipe(z.number().min(MIN_HEARTBEAT_MS, `must be at least ${MIN_HEARTBEAT_MS} ms`)),
    /**
     * Pongs on WebSockets answered by the runtime ("3" → "6") without waking the host. Off: pongs
     * are ordinary messages (no "6" after them), at the cost of one wake per pong.
     */
    PONG_AUTO_RESPONSE: booleanFlag(true),
    /** Largest accepted message or POST body, in bytes (Socket.IO's `maxHttpBufferSize`). */
    MAX_PAYLOAD: positiveInt(1_000_000),
    CONNECT_TIMEOUT: positiveInt(45_000),
    /**
     * Allowed browser origins; "*" allows any origin (reflected, so credentials still work),
     * which is why production refuses it and has no default.
     */
    CORS_ORIGINS: z.union([z.string(), z.array(z.string())]).optional(),
    /** ConnectionHosts per colo. Sessions are spread over them at random. */
    HOST_POOL_SIZE: z.coerce.number().int().min(1).max(1024).default(4),
    /** Accept Engine.IO v3 clients (socket.io-client 2.x), as Socket.IO's `allowEIO3`. */
    ALLOW_EIO3: z
      .union([z.boolean(), z.enum(["true", "false", "1", "0"])])
      .default(false)
      .transform((value) => value === true || value === "true" || value === "1"),
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
    if (config.PING_INTERVAL + config.PING_TIMEOUT > MAX_CLIENT_TIMER_MS) {
      ctx.addIssue({
        code: "custom",
        path: ["PING_TIMEOUT"],
        message: `PING_INTERVAL + PING_TIMEOUT must be at most ${MAX_CLIENT_TIMER_MS} ms: clients wait that long with one timer, which fires at once beyond it (every client would drop its connection)`,
      });
    }
    if (config.ENVIRONMENT === "production" && config.SID_SECRET === DEV_SID_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["SID_SECRET"],
        message: "the development default is refused when ENVIRONMENT=production; run `wrangler secret put SID_SECRET`",
      });
    }
    if (config.ENVIRONMENT !== "production") return;
    const origins = config.CORS_ORIGINS === undefined ? undefined : originList(config.CORS_ORIGINS);
    if (origins === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["CORS_ORIGINS"],
        message: 'required when ENVIRONMENT=production: the origins of your web app, e.g. "https://chat.example.com" ("" for none)',
      });
    } else if (origins.includes("*")) {
      ctx.addIssue({
        code: "custom",
        path: ["CORS_ORIGINS"],
        message: '"*" is refused when ENVIRONMENT=production: allowed origins are reflected with credentials; list your web app\'s origins',
      });
    }
  });

function originList(value: string | string[]): string[] {
  return (Array.isArray(value) ? value : value.split(",")).map((entry) => entry.trim()).filter((entry) => entry.length > 0);
}

export interface EdgeioConfig {
  environment: Environment;
  path: string;
  pingInterval: number;
  pingTimeout: number;
  /** WebSocket pongs answered by the runtime's auto-response (no wake per pong). */
  pongAutoResponse: boolean;
  maxPayload: number;
  connectTimeout: number;
  corsOrigins: string[];
  hostPoolSize: number;
  transports: TransportName[];
  allowEio3: boolean;
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

/** Parses raw env values. Throws ConfigError naming each bad field. */
export function parseConfig(raw: Record<string, unknown>): EdgeioConfig {
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(issueList(result.error));
  }
  const c = result.data;
  return {
    environment: c.ENVIRONMENT,
    path: c.EDGEIO_PATH.endsWith("/") ? c.EDGEIO_PATH : `${c.EDGEIO_PATH}/`,
    pingInterval: c.PING_INTERVAL,
    pingTimeout: c.PING_TIMEOUT,
    pongAutoResponse: c.PONG_AUTO_RESPONSE,
    maxPayload: c.MAX_PAYLOAD,
    connectTimeout: c.CONNECT_TIMEOUT,
    // Outside production an unset list allows any origin (convenient for `wrangler dev`).
    corsOrigins: c.CORS_ORIGINS === undefined ? ["*"] : originList(c.CORS_ORIGINS),
    hostPoolSize: c.HOST_POOL_SIZE,
    transports: c.TRANSPORTS,
    allowEio3: c.ALLOW_EIO3,
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

export const configFrom = perEnv(parseConfig);
