/**
 * Socket.IO's `connectionStateRecovery` server option, as edgeio reads it (defineApp's
 * `server.connectionStateRecovery`), with edgeio's bounds on the per-socket log.
 */
import { z } from "zod";

/** The option as an app writes it (Socket.IO's two fields, plus edgeio's log bounds). */
export interface ConnectionStateRecoveryOptions {
  /** How long a socket dropped by its transport can come back as itself, ms (Socket.IO default: 2 minutes). */
  maxDisconnectionDuration?: number;
  /** Skip the namespace's `use` middlewares for a recovered socket (Socket.IO default: true). */
  skipMiddlewares?: boolean;
  /** Packets kept for one disconnected socket (default 1000); one more and recovery fails. */
  maxPackets?: number;
  /** Bytes of packets kept for one disconnected socket (default 1 MiB); beyond, recovery fails. */
  maxBytes?: number;
}

export type RecoveryConfig = Required<ConnectionStateRecoveryOptions>;

/** The longest window accepted: a day (the log is SQLite on the host; windows are meant to bridge drops). */
export const MAX_RECOVERY_WINDOW_MS = 86_400_000;

const Schema = z.object({
  maxDisconnectionDuration: z.number().int().min(1).max(MAX_RECOVERY_WINDOW_MS).default(120_000),
  skipMiddlewares: z.boolean().default(true),
  maxPackets: z.number().int().min(1).max(100_000).default(1_000),
  maxBytes: z
    .number()
    .int()
    .min(1)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
});

/** Validates the option; null when recovery is off. Throws naming the bad field. */
export function recoveryConfigOf(options: ConnectionStateRecoveryOptions | undefined): RecoveryConfig | null {
  if (options === undefined) return null;
  const parsed = Schema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`edgeio: connectionStateRecovery.${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data;
}

/** Session ends after which a socket may recover: the transport's failures, not a choice (Socket.IO's list). */
export const RECOVERABLE_REASONS: ReadonlySet<string> = new Set([
  "transport error",
  "transport close",
  "forced close",
  "ping timeout",
  "server shutting down",
  "forced server close",
]);

/** What `io.on("recovery:expired", …)` listeners receive: the socket as it was when its window ran out. */
export interface ExpiredSocket {
  id: string;
  nsp: string;
  data: unknown;
  rooms: string[];
  /** When its transport dropped (ms since the epoch). */
  disconnectedAt: number;
  /** Why the window ended: "expired" (no reconnect in time) or "overflow" (its log outgrew the bounds). */
  reason: "expired" | "overflow";
}

export const RECOVERY_EXPIRED_EVENT = "recovery:expired";

/**
 * RECOVERY_MAX_DISCONNECTION_MS (the default app's and the echo app's switch): 0 or unset is
 * off; otherwise the window, ms (at most a day). RECOVERY_SKIP_MIDDLEWARES (default true).
 */
export const recoveryEnvSchema = z.object({
  RECOVERY_MAX_DISCONNECTION_MS: z.coerce.number().int().min(0).max(MAX_RECOVERY_WINDOW_MS).default(0),
  RECOVERY_SKIP_MIDDLEWARES: z
    .union([z.boolean(), z.enum(["true", "false", "1", "0"])])
    .default(true)
    .transform((value) => value === true || value === "true" || value === "1"),
});

/** The `connectionStateRecovery` option the env asks for (undefined: off). Throws on a bad value. */
export function recoveryOptionFromEnv(env: Record<string, unknown>): ConnectionStateRecoveryOptions | undefined {
  const parsed = recoveryEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`edgeio: ${issue.path.join(".")}: ${issue.message}`);
  }
  const { RECOVERY_MAX_DISCONNECTION_MS: window, RECOVERY_SKIP_MIDDLEWARES: skipMiddlewares } = parsed.data;
  return window > 0 ? { maxDisconnectionDuration: window, skipMiddlewares } : undefined;
}
