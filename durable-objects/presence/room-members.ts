/**
 * A RoomDO's member table: its schema, a row, and what members see of a row (no socket id,
 * see ids.ts) grouped per user as the presence snapshot.
 */
import type { JsonValue, PresenceEntry, PresenceMeta, PresenceSnapshot } from "./types";

export interface MemberRow {
  socket_id: string;
  host: string;
  joined_at: number;
  user_id: string | null;
  user_name: string | null;
  device_id: string | null;
  member_id: string | null;
  state: string | null;
  [key: string]: SqlStorageValue;
}

export const ROOM_SCHEMA = `
  CREATE TABLE IF NOT EXISTS members (
    socket_id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    joined_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS members_by_host ON members (host);
  CREATE TABLE IF NOT EXISTS announced_users (
    user_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    leave_due INTEGER
  );
  CREATE TABLE IF NOT EXISTS announced_devices (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    leave_due INTEGER,
    PRIMARY KEY (user_id, device_id)
  );
`;

/** What members see of a connection: no socket id (see presence/ids.ts). */
export function metaOf(row: MemberRow): PresenceMeta {
  const memberId = row.member_id ?? "";
  return {
    memberId,
    deviceId: row.device_id ?? memberId,
    joinedAt: row.joined_at,
    state: row.state === null ? null : (JSON.parse(row.state) as JsonValue),
  };
}

/** Live connections grouped per user, and the room's counts. */
export function snapshotOf(rows: MemberRow[], connections: number): PresenceSnapshot {
  const byUser = new Map<string, PresenceEntry>();
  for (const row of rows) {
    const entry = byUser.get(row.user_id!) ?? { user: { id: row.user_id!, name: row.user_name ?? row.user_id! }, metas: [] };
    entry.metas.push(metaOf(row));
    byUser.set(row.user_id!, entry);
  }
  return { presence: [...byUser.values()], counts: { connections, users: byUser.size } };
}
