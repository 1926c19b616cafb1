/**
 * The distinct users and rooms of a ConnectionHost's sockets, counted in memory for its load
 * report (stats/host-load.ts), so that a report reads no SQLite row. Built from SQLite once per
 * instance, the first time a report needs it (host-socket-queries.ts), then kept in step by the
 * store's write-through (host-sockets.ts): every change of a socket's data, rooms or existence
 * goes to SQLite and here in the same call. Bounded by the host's sockets and memberships.
 */

/** `data.user.id` of a socket's data (JSON), when a string: what the load report counts as a user. */
export function userIdOf(data: string): string | null {
  if (!data.includes('"user"')) return null; // most data has no user: no parse
  try {
    const user = (JSON.parse(data) as { user?: unknown } | null)?.user;
    const id = typeof user === "object" && user !== null ? (user as { id?: unknown }).id : undefined;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

export class LoadIndex {
  /** The user id of each socket that has one. */
  private readonly userOf = new Map<string, string>();
  /** Sockets per user id. */
  private readonly sockets = new Map<string, number>();
  /** Members per room, per namespace (a socket's own id is no room here: stats/types.ts). */
  private readonly members = new Map<string, Map<string, number>>();

  /** A socket's data is now `data` (a new socket, a change, a restored or recovered socket). */
  setData(socketId: string, data: string): void {
    this.setUser(socketId, userIdOf(data));
  }

  setUser(socketId: string, user: string | null): void {
    const before = this.userOf.get(socketId) ?? null;
    if (before === user) return;
    if (before !== null) {
      this.userOf.delete(socketId);
      bump(this.sockets, before, -1);
    }
    if (user !== null) {
      this.userOf.set(socketId, user);
      bump(this.sockets, user, 1);
    }
  }

  /** A socket was deleted (with its memberships: `rooms`, its own id among them or not). */
  removeSocket(socketId: string, nsp: string, rooms: Iterable<string>): void {
    this.setUser(socketId, null);
    for (const room of rooms) if (room !== socketId) this.addMembers(nsp, room, -1);
  }

  /** `count` more (or fewer, negative) members of `room` in `nsp` (none: a socket without a row, which no join counts). */
  addMembers(nsp: string | undefined, room: string, count: number): void {
    if (nsp === undefined) return;
    let rooms = this.members.get(nsp);
    if (!rooms) {
      rooms = new Map();
      this.members.set(nsp, rooms);
    }
    bump(rooms, room, count);
    if (rooms.size === 0) this.members.delete(nsp);
  }

  /** Distinct user ids: the ids while at most `limit`, else null, and the count. */
  users(limit: number): { ids: string[] | null; count: number } {
    const count = this.sockets.size;
    return { ids: count <= limit ? [...this.sockets.keys()] : null, count };
  }

  /** Distinct rooms per namespace, and the rooms as `JSON.stringify([nsp, room])` while at most `limit` in all. */
  rooms(limit: number): { ids: string[] | null; perNamespace: Map<string, number> } {
    const perNamespace = new Map<string, number>();
    let total = 0;
    for (const [nsp, rooms] of this.members) {
      perNamespace.set(nsp, rooms.size);
      total += rooms.size;
    }
    if (total > limit) return { ids: null, perNamespace };
    const ids: string[] = [];
    for (const [nsp, rooms] of this.members) for (const room of rooms.keys()) ids.push(JSON.stringify([nsp, room]));
    return { ids, perNamespace };
  }
}

/** Adds `by` to a count, dropping the key at zero (a count never goes below zero). */
function bump(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}
