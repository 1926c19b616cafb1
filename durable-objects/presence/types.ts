/**
 * Presence data shared by the ConnectionHost (which reports a socket's user and device when it
 * joins a room), RoomDO and UserDO (which aggregate it) and the apps (which read it).
 */
import { z } from "zod";

export interface PresenceUser {
  id: string;
  name: string;
}

/** Presence state is small JSON (bounded by PRESENCE_MAX_STATE_BYTES); kept shallow for RPC typing. */
export type JsonValue = string | number | boolean | null | { [key: string]: unknown } | unknown[];

/**
 * One connection of a presence entry, as every member of the room sees it. Never a socket id
 * (a socket id is a delivery address): `memberId` is an opaque per-room id of the connection.
 */
export interface PresenceMeta {
  memberId: string;
  deviceId: string;
  joinedAt: number;
  state: JsonValue;
}

/** One user of a room with every connection (meta) it has there. */
export interface PresenceEntry {
  user: PresenceUser;
  metas: PresenceMeta[];
}

export interface PresenceCounts {
  connections: number;
  users: number;
}

export interface PresenceSnapshot {
  /** One page of users (at most 1000), in order of each user's first connection. */
  presence: PresenceEntry[];
  /** Exact, for the whole room: presence connections and distinct users. */
  counts: PresenceCounts;
  /** Present when more users follow: pass it back as `cursor` for the next page. */
  next?: string;
}

/** What a host tells a RoomDO about a joining socket; read from `socket.data.user` / `socket.data.presence`. */
export interface MemberMeta {
  user?: PresenceUser;
  deviceId?: string;
  state?: unknown;
}

export const PresenceUserSchema = z.object({ id: z.string().min(1).max(256), name: z.string().max(256) });

export const MemberMetaSchema = z.object({
  user: PresenceUserSchema.optional(),
  deviceId: z.string().min(1).max(128).optional(),
  state: z.unknown().optional(),
});

const SocketData = z
  .object({
    user: z
      .object({ id: z.string().min(1).max(256), name: z.string().max(256).optional() })
      .passthrough()
      .optional(),
    presence: z
      .object({ deviceId: z.string().min(1).max(128).optional(), state: z.unknown().optional() })
      .passthrough()
      .optional(),
  })
  .passthrough();

/**
 * The member metadata of a socket, from its `data`: `data.user = { id, name }` makes the socket
 * part of presence; `data.presence = { deviceId, state }` refines it. Anything else is ignored.
 */
export function memberMetaOf(data: unknown): MemberMeta {
  const parsed = SocketData.safeParse(data ?? {});
  if (!parsed.success || !parsed.data.user) return {};
  const { user, presence } = parsed.data;
  const meta: MemberMeta = { user: { id: user.id, name: user.name ?? user.id } };
  if (presence?.deviceId) meta.deviceId = presence.deviceId;
  if (presence?.state !== undefined) meta.state = presence.state;
  return meta;
}

/** A RoomDO's answer to a join (RoomJoinError carries a refusal to the app). */
export type JoinResult = { ok: true } | { ok: false; error: "room_full" | "state_too_large"; message: string };

/** Byte size of a JSON-serialisable value (the unit of PRESENCE_MAX_STATE_BYTES). */
export function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value ?? null)).byteLength;
}

/** Where a room lives; hosts pass it so the RoomDO can announce into itself. */
export interface RoomScope {
  nsp: string;
  room: string | null;
}

/** Calls a RoomDO received since it was constructed, by method (tests count work with it). */
export interface RoomStats {
  calls: Record<string, number>;
  hosts: number;
  presenceConnections: number;
}
