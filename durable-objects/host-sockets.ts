/**
 * A ConnectionHost's Socket.IO sockets and their rooms: SQLite tables (what survives eviction)
 * with an in-memory copy in front (what the hot path reads). Write-through: every change goes
 * to SQLite and to the copy in the same call, so the copy is never ahead of storage and a new
 * instance rebuilds it lazily — per socket, per session or per room, the first time each is
 * needed — so a woken host reads only what it touches. A write that changes nothing (the same
 * `socket.data`, a room the socket is already in) is skipped.
 */
import { KeptBackHooks, type SocketRow } from "./host-kept-back-hooks";
import type { LoadIndex } from "./host-load-index";

export type { SocketRow } from "./host-kept-back-hooks";

const INSERT_SOCKET = "INSERT INTO sockets (id, sid, nsp, auth, data, connected_at) VALUES (?, ?, ?, ?, ?, ?)";

/** Rooms whose members are cached at once; beyond this the room cache starts again (memory bound). */
const MAX_CACHED_ROOMS = 10_000;

export class SocketTables extends KeptBackHooks {
  /** Socket rows by id (every one of them once `allLoaded`). */
  private readonly rows = new Map<string, SocketRow>();
  /** Socket ids per session, in connection order (loaded per session). */
  private readonly bySession = new Map<string, string[]>();
  /** Rooms per socket (loaded per socket). */
  private readonly roomsBySocket = new Map<string, Set<string>>();
  /** Members per room (loaded per room). */
  private readonly membersByRoom = new Map<string, Set<string>>();
  /** Sockets in memory whose row is not written (kept back: host-store.ts). */
  private readonly unwritten = new Set<string>();
  /** Every socket row is in `rows` (a namespace-wide selection loaded them). */
  private allLoaded = false;
  private count: number | undefined;
  /** Sockets per namespace (counted from SQLite once per instance, then kept in step). */
  private perNamespace: Map<string, number> | undefined;

  /** Engine.IO message packets received / sent since the last load report (in memory; stats/host-load.ts takes them). */
  readonly messages = { in: 0, out: 0 };
  /** Called when the host's load changes (sessions, sockets, rooms, socket.data, messages): the load reporter listens. */
  onLoadChange: () => void = () => undefined;
  /** Bumped on every change but messages (in memory, per instance). */
  structureVersion = 0;
  /** Distinct users and rooms for the load report, once built (host-socket-queries.ts): kept in step here. */
  protected loadIndex: LoadIndex | null = null;

  countMessages(direction: "in" | "out", count: number): void {
    this.messages[direction] += count;
    this.onLoadChange();
  }

  /** Counts a change of sessions, sockets, rooms or socket.data (the load report recomputes users and rooms only then). */
  protected structureChanged(): void {
    this.structureVersion += 1;
    this.onLoadChange();
  }

  insertSocket(row: SocketRow): void {
    const keep = this.keptBack(row.sid);
    this.rememberSocket(row, keep);
    // A direct WebSocket's CONNECT: nothing is written, so its reply waits for no commit (host-store.ts).
    if (keep) {
      if (!this.attachKeptBack(row.sid)) this.persistSession(row.sid);
      return;
    }
    this.persistSession(row.sid);
    this.writeSocketRow(row);
  }

  protected writeSocketRow(row: SocketRow): void {
    this.unwritten.delete(row.id);
    this.sql.exec(INSERT_SOCKET, row.id, row.sid, row.nsp, row.auth, row.data, row.connected_at);
  }

  /** A socket in memory only (a new one, or one back from its attachment). */
  protected rememberSocket(row: SocketRow, unwritten: boolean): void {
    if (unwritten) this.unwritten.add(row.id);
    this.rows.set(row.id, { ...row });
    this.bySession.get(row.sid)?.push(row.id);
    this.roomsBySocket.set(row.id, new Set());
    if (this.count !== undefined) this.count += 1;
    if (this.perNamespace) this.perNamespace.set(row.nsp, (this.perNamespace.get(row.nsp) ?? 0) + 1);
    this.loadIndex?.setData(row.id, row.data);
    this.structureChanged();
  }

  /** A recovered socket's row moves to its new session (connection-state recovery). */
  rebindSocket(row: Omit<SocketRow, "connected_at">): void {
    const current = this.socket(row.id);
    if (!current) return;
    this.persistSession(row.sid);
    this.sql.exec("UPDATE sockets SET sid = ?, auth = ?, data = ? WHERE id = ?", row.sid, row.auth, row.data, row.id);
    this.dropFromSession(current.sid, row.id);
    Object.assign(current, row);
    this.bySession.get(row.sid)?.push(row.id);
    this.loadIndex?.setData(row.id, row.data);
  }

  socket(id: string): SocketRow | null {
    const cached = this.rows.get(id);
    if (cached) return cached;
    // Socket ids are "<host>.<random><tag>" (protocol/ids.ts): a name without a dot is a room.
    if (this.allLoaded || !id.includes(".")) return null;
    const row = this.sql.exec<SocketRow>("SELECT * FROM sockets WHERE id = ?", id).toArray()[0] ?? null;
    if (row)
      this.rows.set(id, row); // unknown ids are not remembered: they would pile up
    else this.restoreKeptBack(); // it may be kept back in an attachment
    return row ?? this.rows.get(id) ?? null;
  }

  socketsOfSession(sid: string): SocketRow[] {
    let ids = this.bySession.get(sid);
    if (!ids) {
      const rows = this.sql.exec<SocketRow>("SELECT * FROM sockets WHERE sid = ? ORDER BY connected_at", sid).toArray();
      for (const row of rows) if (!this.rows.get(row.id)) this.rows.set(row.id, row);
      ids = rows.map((row) => row.id);
      this.bySession.set(sid, ids);
    }
    return ids.map((id) => this.rows.get(id)).filter((row): row is SocketRow => row !== undefined);
  }

  /** Sockets of each namespace on this host (from memory after the first call). */
  namespaceCounts(): Array<{ nsp: string; sockets: number }> {
    return [...this.namespaceCountMap()].filter(([, sockets]) => sockets > 0).map(([nsp, sockets]) => ({ nsp, sockets }));
  }

  private namespaceCountMap(): Map<string, number> {
    if (!this.perNamespace) {
      this.restoreKeptBack();
      const rows = this.sql.exec<{ nsp: string; sockets: number }>("SELECT nsp, COUNT(*) AS sockets FROM sockets GROUP BY nsp").toArray();
      const counts = new Map(rows.map((row) => [row.nsp, row.sockets]));
      for (const row of this.keptBackSockets()) counts.set(row.nsp, (counts.get(row.nsp) ?? 0) + 1);
      this.perNamespace = counts;
    }
    return this.perNamespace;
  }

  /** Whether any socket of namespace `nsp` is on this host. */
  hasSocketsIn(nsp: string): boolean {
    return (this.namespaceCountMap().get(nsp) ?? 0) > 0;
  }

  /** Whether another socket of `nsp` on this host is in `room` (from the cached members). */
  othersInRoom(nsp: string, room: string, socketId: string): boolean {
    for (const id of this.members(room)) if (id !== socketId && this.rows.get(id)?.nsp === nsp) return true;
    return false;
  }

  /** Whether this host has a socket of `nsp` other than `socketId`. */
  othersInNamespace(nsp: string, socketId: string): boolean {
    const count = this.namespaceCountMap().get(nsp) ?? 0; // a lookup per connect, no list built
    // Only a count of one depends on whether it is this socket: the socket is read only then (a
    // socket just deleted, as on a disconnect, would cost a SELECT that finds nothing).
    if (count !== 1) return count > 1;
    return this.socket(socketId)?.nsp !== nsp;
  }

  socketCount(): number {
    if (this.count === undefined) {
      this.restoreKeptBack();
      this.count = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sockets").one().n + this.keptBackSockets().length;
    }
    return this.count;
  }

  /** Persists `socket.data` (JSON) unless it is what is stored already. */
  saveSocketData(id: string, data: string): void {
    const row = this.socket(id);
    if (!row || row.data === data) return;
    const keep = this.keptBack(row.sid);
    row.data = data;
    if (!keep) this.sql.exec("UPDATE sockets SET data = ? WHERE id = ?", data, id);
    else if (!this.attachKeptBack(row.sid)) this.persistSession(row.sid);
    this.loadIndex?.setData(id, data);
    this.structureChanged();
  }

  deleteSocket(id: string): void {
    const row = this.socket(id);
    const unwritten = this.unwritten.delete(id);
    const rooms = this.roomsOf(id);
    let deleted = unwritten;
    if (!unwritten) {
      // Its rooms are known (roomsOf read them): a socket in none has no rows there.
      if (rooms.length > 0) this.sql.exec("DELETE FROM socket_rooms WHERE socket_id = ?", id);
      deleted = this.sql.exec("DELETE FROM sockets WHERE id = ?", id).rowsWritten > 0;
    }
    for (const room of rooms) this.membersByRoom.get(room)?.delete(id);
    this.roomsBySocket.delete(id);
    this.rows.delete(id);
    if (row) this.dropFromSession(row.sid, id);
    if (deleted && this.count !== undefined) this.count -= 1;
    if (deleted && row && this.perNamespace) this.perNamespace.set(row.nsp, Math.max(0, (this.perNamespace.get(row.nsp) ?? 0) - 1));
    if (deleted && row) this.loadIndex?.removeSocket(id, row.nsp, rooms);
    if (deleted) this.structureChanged();
    // Kept back: its attachment must not bring it back after an eviction (a closed WebSocket's is gone anyway).
    if (row && this.keptBack(row.sid)) this.attachKeptBack(row.sid);
  }

  /** Takes a socket out of its session's list (kept in connection order). */
  private dropFromSession(sid: string, id: string): void {
    const ids = this.bySession.get(sid);
    if (ids)
      this.bySession.set(
        sid,
        ids.filter((other) => other !== id),
      );
  }

  /** Whether the session's socket list is in memory and empty (false when it is not known without a read). */
  protected knownSocketless(sid: string): boolean {
    return this.bySession.get(sid)?.length === 0;
  }

  /** A session created by this instance has no sockets yet: nothing to read. */
  protected newSessionSockets(sid: string): void {
    this.bySession.set(sid, []);
  }

  /** Forgets a session's socket index (the session is gone). */
  protected forgetSessionSockets(sid: string): void {
    this.bySession.delete(sid);
  }

  roomsOf(socketId: string): string[] {
    return [...this.roomSet(socketId)];
  }

  /** A session's socket rows as memory has them (host-store.ts writes a kept-back session's). */
  protected memorySocketsOf(sid: string): SocketRow[] {
    return (this.bySession.get(sid) ?? []).map((id) => this.rows.get(id)).filter((row): row is SocketRow => row !== undefined);
  }

  addRoom(socketId: string, room: string): boolean {
    const rooms = this.roomSet(socketId);
    if (rooms.has(room)) return false;
    // Room lookups join memberships with socket rows: a kept-back socket's are written first.
    const sid = this.socket(socketId)?.sid;
    if (sid !== undefined) this.persistSession(sid);
    const added = this.sql.exec("INSERT OR IGNORE INTO socket_rooms (socket_id, room) VALUES (?, ?)", socketId, room).rowsWritten > 0;
    rooms.add(room);
    this.membersByRoom.get(room)?.add(socketId);
    if (added) this.roomChanged(socketId, room, 1);
    return added;
  }

  removeRoom(socketId: string, room: string): boolean {
    const rooms = this.roomSet(socketId);
    if (!rooms.has(room)) return false;
    const removed = this.sql.exec("DELETE FROM socket_rooms WHERE socket_id = ? AND room = ?", socketId, room).rowsWritten > 0;
    rooms.delete(room);
    this.membersByRoom.get(room)?.delete(socketId);
    if (removed) this.roomChanged(socketId, room, -1);
    return removed;
  }

  /** A membership row added (1) or deleted (-1): the load index counts it as the report's join on sockets does. */
  private roomChanged(socketId: string, room: string, by: 1 | -1): void {
    if (this.loadIndex && room !== socketId) this.loadIndex.addMembers(this.socket(socketId)?.nsp, room, by);
    this.structureChanged();
  }

  /**
   * Sockets of a namespace selected like Socket.IO's adapter does: in any of `rooms`
   * (all sockets when empty), not in any of `except`. A socket's own id counts as a room.
   * Served from memory once each room was read: a broadcast reads its rooms once, never
   * anything per recipient.
   */
  select(nsp: string, rooms: string[], except: string[]): Array<{ id: string; sid: string }> {
    const excluded = new Set(except);
    for (const room of except) for (const id of this.members(room)) excluded.add(id);
    let chosen: Iterable<string>;
    if (rooms.length === 0) {
      this.loadAll();
      chosen = this.rows.keys();
    } else if (rooms.length === 1 && !this.socket(rooms[0])) {
      // One room (the common broadcast): its member set as it is, no copy.
      chosen = this.members(rooms[0]);
    } else {
      const union = new Set<string>();
      for (const room of rooms) {
        for (const id of this.members(room)) union.add(id);
        if (this.socket(room)) union.add(room);
      }
      chosen = union;
    }
    // The cached rows themselves (they carry id and sid): nothing allocated per recipient.
    const selected: SocketRow[] = [];
    for (const id of chosen) {
      const row = this.rows.get(id);
      if (row && row.nsp === nsp && !excluded.has(id)) selected.push(row);
    }
    return selected;
  }

  private roomSet(socketId: string): Set<string> {
    let rooms = this.roomsBySocket.get(socketId);
    if (!rooms) {
      const rows = this.sql.exec<{ room: string }>("SELECT room FROM socket_rooms WHERE socket_id = ?", socketId).toArray();
      rooms = new Set(rows.map((row) => row.room));
      this.roomsBySocket.set(socketId, rooms);
    }
    return rooms;
  }

  /** The members of a room on this host, with their socket rows cached (one query per room). */
  private members(room: string): Set<string> {
    let members = this.membersByRoom.get(room);
    if (!members) {
      if (this.membersByRoom.size >= MAX_CACHED_ROOMS) this.membersByRoom.clear();
      const rows = this.sql
        .exec<SocketRow>("SELECT s.* FROM socket_rooms r JOIN sockets s ON s.id = r.socket_id WHERE r.room = ?", room)
        .toArray();
      for (const row of rows) if (!this.rows.get(row.id)) this.rows.set(row.id, row);
      members = new Set(rows.map((row) => row.id));
      this.membersByRoom.set(room, members);
    }
    return members;
  }

  private loadAll(): void {
    if (this.allLoaded) return;
    this.restoreKeptBack();
    for (const row of this.sql.exec<SocketRow>("SELECT * FROM sockets").toArray()) if (!this.rows.get(row.id)) this.rows.set(row.id, row);
    this.allLoaded = true;
    this.count = this.rows.size;
  }
}
