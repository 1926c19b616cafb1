/**
 * Presence configuration (PRESENCE_*, ROOM_MAX_MEMBERS), read by RoomDO and UserDO for every
 * app: grace period, leases, limits, and which rooms never announce presence.
 */
import { z } from "zod";
import { commaList, ConfigError, issueList, perEnv, positiveInt } from "../../protocol/config-vars";

const PresenceConfigSchema = z.object({
  /** How long a member stays listed after its last connection left (a reload does not flap). */
  PRESENCE_GRACE_MS: z.coerce.number().int().min(0).default(5_000),
  /** How often hosts renew their lease on the rooms they have members in (a room drops a host after 3 missed renewals). */
  PRESENCE_LEASE_MS: positiveInt(60_000),
  /** Optional cap on a room's presence connections (fan-out itself needs none); unset: no cap. */
  ROOM_MAX_MEMBERS: z.coerce.number().int().positive().optional(),
  PRESENCE_MAX_STATE_BYTES: positiveInt(1_024),
  /** Rooms tracked for counts and leases but never announced (the per-user rooms by default). */
  PRESENCE_SILENT_ROOMS: commaList(["user:*"]),
});

export interface PresenceConfig {
  graceMs: number;
  leaseMs: number;
  /** null: no cap. */
  maxMembers: number | null;
  maxStateBytes: number;
  silentRooms: string[];
}

export function parsePresenceConfig(raw: Record<string, unknown>): PresenceConfig {
  const result = PresenceConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(issueList(result.error));
  const c = result.data;
  return {
    graceMs: c.PRESENCE_GRACE_MS,
    leaseMs: c.PRESENCE_LEASE_MS,
    maxMembers: c.ROOM_MAX_MEMBERS ?? null,
    maxStateBytes: c.PRESENCE_MAX_STATE_BYTES,
    silentRooms: c.PRESENCE_SILENT_ROOMS,
  };
}

/** Parses once per env object; throws ConfigError naming each bad field. */
export const presenceConfigFrom = perEnv(parsePresenceConfig);

/** Glob match for room-name patterns: `*` matches any run of characters. */
export function matchesPattern(pattern: string, name: string): boolean {
  if (!pattern.includes("*")) return pattern === name;
  const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${escaped.join(".*")}$`).test(name);
}
