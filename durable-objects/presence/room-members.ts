/**
 * A RoomDO's member table: its schema, a row, and what members see of a row (no socket id,
 * see ids.ts) grouped per user as the presence snapshot, one page at a time. Only presence
 * members (sockets with a user) have rows; the room's other sockets are counted per host
 * (room-hosts.ts).
 */
import { fallbackDeviceIdOf } from "./ids";
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

/** Users per page of a presence list (the default and the most one call returns). */
export const PRESENCE_PAGE_MAX = 1_000;

/**
 * One page of live connections grouped per user, users in order of their first connection,
 * and the room's exact counts. `cursor` is the previous page's `next`; `next` is present only
 * when more users follow.
 */
export function presencePage(sql: SqlStorage, limit = PRESENCE_PAGE_MAX, cursor?: string): PresenceSnapshot {
  const size = Math.max(1, Math.min(PRESENCE_PAGE_MAX, Math.floor(limit)));
  const after = decodeCursor(cursor);
  const users = sql
    .exec<{ user_id: string; first: number }>(
      `SELECT user_id, MIN(joined_at) AS first FROM members WHERE user_id IS NOT NULL GROUP BY user_id
       HAVING ?1 IS NULL OR first > ?1 OR (first = ?1 AND user_id > ?2) ORDER BY first, user_id LIMIT ?3`,
      after?.first ?? null,
      after?.user ?? "",
      size + 1,
    )
    .toArray();
  const page = users.slice(0, size);
  const rows = sql
    .exec<MemberRow>(
      "SELECT * FROM members WHERE user_id IN (SELECT value FROM json_each(?)) ORDER BY joined_at, socket_id",
      JSON.stringify(page.map((u) => u.user_id)),
    )
    .toArray();
  const byUser = new Map<string, PresenceEntry>(page.map((u) => [u.user_id, { user: { id: u.user_id, name: u.user_id }, metas: [] }]));
  for (const row of rows) {
    const entry = byUser.get(row.user_id!)!;
    if (entry.metas.length === 0) entry.user = { id: row.user_id!, name: row.user_name ?? row.user_id! };
    entry.metas.push(metaOf(row));
  }
  const counts = sql
    .exec<{ connections: number; users: number }>(
      "SELECT COUNT(*) AS connections, COUNT(DISTINCT user_id) AS users FROM members WHERE user_id IS NOT NULL",
    )
    .one();
  const snapshot: PresenceSnapshot = { presence: [...byUser.values()], counts: { connections: counts.connections, users: counts.users } };
  const last = page[page.length - 1];
  if (users.length > size && last) snapshot.next = encodeCursor(last.first, last.user_id);
  return snapshot;
}

function encodeCursor(first: number, user: string): string {
  return btoa(JSON.stringify([first, user]))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** A cursor from a client: anything malformed starts from the beginning. */
function decodeCursor(cursor: string | undefined): { first: number; user: string } | null {
  if (!cursor) return null;
  try {
    const value: unknown = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")));
    if (Array.isArray(value) && typeof value[0] === "number" && typeof value[1] === "string") return { first: value[0], user: value[1] };
  } catch {
    // fall through
  }
  return null;
}

/** Rooms created before presence existed have the three original columns only: adds the rest. */
export function upgradeMemberTable(sql: SqlStorage): void {
  const columns = new Set(
    sql
      .exec<{ name: string }>("PRAGMA table_info(members)")
      .toArray()
      .map((c) => c.name),
  );
  for (const [column, type] of [
    ["user_id", "TEXT"],
    ["user_name", "TEXT"],
    ["device_id", "TEXT"],
    ["state", "TEXT"],
    ["member_id", "TEXT"],
  ] as const) {
    if (!columns.has(column)) sql.exec(`ALTER TABLE members ADD COLUMN ${column} ${type}`);
  }
  sql.exec("CREATE INDEX IF NOT EXISTS members_by_user ON members (user_id)");
}

/** Members stored before member ids existed: gives them one (and no socket id as device id). */
export async function backfillMemberIds(sql: SqlStorage, memberId: (socketId: string) => Promise<string>): Promise<void> {
  const rows = sql
    .exec<{ socket_id: string; device_id: string | null }>("SELECT socket_id, device_id FROM members WHERE member_id IS NULL")
    .toArray();
  for (const row of rows) {
    const device = row.device_id === row.socket_id ? await fallbackDeviceIdOf(row.socket_id) : row.device_id;
    sql.exec("UPDATE members SET member_id = ?, device_id = ? WHERE socket_id = ?", await memberId(row.socket_id), device, row.socket_id);
  }
}

/**
 * Lease renewal: removes the presence members of `host` that joined before `joinedBefore` and
 * are not in its list (ghosts); returns the users they belonged to.
 */
export function removeUnlisted(sql: SqlStorage, host: string, listed: Set<string>, joinedBefore: number): Set<string> {
  const ghosts = sql
    .exec<{ socket_id: string; user_id: string | null }>(
      "SELECT socket_id, user_id FROM members WHERE host = ? AND joined_at < ?",
      host,
      joinedBefore,
    )
    .toArray()
    .filter((row) => !listed.has(row.socket_id));
  const users = new Set<string>();
  for (const ghost of ghosts) {
    sql.exec("DELETE FROM members WHERE socket_id = ?", ghost.socket_id);
    if (ghost.user_id) users.add(ghost.user_id);
  }
  return users;
}

/** The socket ids of a host's presence members. */
export function memberIdsOfHost(sql: SqlStorage, host: string): Set<string> {
  return new Set(
    sql
      .exec<{ socket_id: string }>("SELECT socket_id FROM members WHERE host = ?", host)
      .toArray()
      .map((row) => row.socket_id),
  );
}
