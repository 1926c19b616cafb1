/**
 * Everything a ConnectionHost must remember across eviction and hibernation, in its SQLite:
 * Engine.IO sessions, queued long-polling frames, Socket.IO sockets (namespace, auth,
 * socket.data) and their rooms.
 */
import type { TransportName } from "./config";
import type { HandshakeRecord } from "./engine/types";

export type SessionRow = {
  sid: string;
  transport: TransportName;
  upgrading: number;
  closing: number;
  created_at: number;
  connect_deadline: number | null;
  last_pong_at: number;
  handshake: string;
};

export type SocketRow = {
  id: string;
  sid: string;
  nsp: string;
  auth: string;
  data: string;
  connected_at: number;
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  sid TEXT PRIMARY KEY,
  transport TEXT NOT NULL,
  upgrading INTEGER NOT NULL DEFAULT 0,
  closing INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  connect_deadline INTEGER,
  last_pong_at INTEGER NOT NULL,
  handshake TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  sid TEXT NOT NULL,
  frame TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_sid ON outbox (sid, seq);
CREATE TABLE IF NOT EXISTS sockets (
  id TEXT PRIMARY KEY,
  sid TEXT NOT NULL,
  nsp TEXT NOT NULL,
  auth TEXT NOT NULL,
  data TEXT NOT NULL,
  connected_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sockets_by_sid ON sockets (sid);
CREATE INDEX IF NOT EXISTS sockets_by_nsp ON sockets (nsp);
CREATE TABLE IF NOT EXISTS socket_rooms (
  socket_id TEXT NOT NULL,
  room TEXT NOT NULL,
  PRIMARY KEY (socket_id, room)
);
CREATE INDEX IF NOT EXISTS rooms_by_room ON socket_rooms (room);
CREATE TABLE IF NOT EXISTS host_meta (
  key TEXT PRIMARY KEY,
  value
);
`;

export class HostStore {
  /** Queued frames and characters per session, counted once from SQLite, then kept in step. */
  private readonly queueSizes = new Map<string, { frames: number; bytes: number }>();

  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  // ── host meta ──────────────────────────────────────────────
  getMeta<T extends string | number>(key: string): T | null {
    const row = this.sql.exec<{ value: T }>("SELECT value FROM host_meta WHERE key = ?", key).toArray()[0];
    return row ? row.value : null;
  }

  setMeta(key: string, value: string | number | null): void {
    this.sql.exec("INSERT OR REPLACE INTO host_meta (key, value) VALUES (?, ?)", key, value);
  }

  /** Adds 1 to a numeric host counter (stats). */
  bumpMeta(key: string): void {
    this.setMeta(key, (this.getMeta<number>(key) ?? 0) + 1);
  }

  // ── sessions ───────────────────────────────────────────────
  createSession(sid: string, transport: TransportName, now: number, connectDeadline: number, handshake: HandshakeRecord): void {
    this.sql.exec(
      "INSERT INTO sessions (sid, transport, created_at, connect_deadline, last_pong_at, handshake) VALUES (?, ?, ?, ?, ?, ?)",
      sid,
      transport,
      now,
      connectDeadline,
      now,
      JSON.stringify(handshake),
    );
  }

  session(sid: string): SessionRow | null {
    return this.sql.exec<SessionRow>("SELECT * FROM sessions WHERE sid = ?", sid).toArray()[0] ?? null;
  }

  sessions(): SessionRow[] {
    return this.sql.exec<SessionRow>("SELECT * FROM sessions").toArray();
  }

  socketCount(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sockets").one().n;
  }

  sessionCount(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sessions").one().n;
  }

  setTransport(sid: string, transport: TransportName): void {
    this.sql.exec("UPDATE sessions SET transport = ?, upgrading = 0 WHERE sid = ?", transport, sid);
  }

  /** 0: no upgrade under way; 1: a WebSocket probe is open; 2: the probe answered "3probe". */
  setUpgradeState(sid: string, state: 0 | 1 | 2): void {
    this.sql.exec("UPDATE sessions SET upgrading = ? WHERE sid = ?", state, sid);
  }

  markClosing(sid: string): void {
    this.sql.exec("UPDATE sessions SET closing = 1 WHERE sid = ?", sid);
  }

  recordPong(sid: string, now: number): void {
    this.sql.exec("UPDATE sessions SET last_pong_at = ? WHERE sid = ?", now, sid);
  }

  clearConnectDeadline(sid: string): void {
    this.sql.exec("UPDATE sessions SET connect_deadline = NULL WHERE sid = ?", sid);
  }

  earliestConnectDeadline(): number | null {
    return this.sql.exec<{ t: number | null }>("SELECT MIN(connect_deadline) AS t FROM sessions WHERE closing = 0").one().t;
  }

  sessionsPastConnectDeadline(now: number): string[] {
    return this.sql
      .exec<{ sid: string }>("SELECT sid FROM sessions WHERE connect_deadline IS NOT NULL AND connect_deadline <= ? AND closing = 0", now)
      .toArray()
      .map((row) => row.sid);
  }

  deleteSession(sid: string): void {
    this.clearQueue(sid);
    this.sql.exec("DELETE FROM sessions WHERE sid = ?", sid);
  }

  // ── long-polling queue ─────────────────────────────────────
  enqueue(sid: string, frames: string[]): void {
    const size = this.queueSize(sid);
    for (const frame of frames) {
      this.sql.exec("INSERT INTO outbox (sid, frame) VALUES (?, ?)", sid, frame);
      size.frames += 1;
      size.bytes += frame.length;
    }
  }

  /** Frames queued for a session and their total length in characters. */
  queueSize(sid: string): { frames: number; bytes: number } {
    let size = this.queueSizes.get(sid);
    if (!size) {
      const row = this.sql
        .exec<{ n: number; bytes: number | null }>("SELECT COUNT(*) AS n, SUM(LENGTH(frame)) AS bytes FROM outbox WHERE sid = ?", sid)
        .one();
      size = { frames: row.n, bytes: row.bytes ?? 0 };
      this.queueSizes.set(sid, size);
    }
    return size;
  }

  clearQueue(sid: string): void {
    this.sql.exec("DELETE FROM outbox WHERE sid = ?", sid);
    this.queueSizes.delete(sid);
  }

  /** The queued frames of a session, oldest first, without removing them (see `deleteUpTo`). */
  peek(sid: string): { frames: string[]; lastSeq: number } {
    const rows = this.sql.exec<{ seq: number; frame: string }>("SELECT seq, frame FROM outbox WHERE sid = ? ORDER BY seq", sid).toArray();
    return { frames: rows.map((row) => row.frame), lastSeq: rows.length > 0 ? rows[rows.length - 1].seq : 0 };
  }

  /** Removes frames up to `seq` once their delivery is confirmed. */
  deleteUpTo(sid: string, seq: number): void {
    this.sql.exec("DELETE FROM outbox WHERE sid = ? AND seq <= ?", sid, seq);
    this.queueSizes.delete(sid);
  }

  /** Removes and returns the queued frames of a session, oldest first. */
  drain(sid: string): string[] {
    const rows = this.sql.exec<{ seq: number; frame: string }>("SELECT seq, frame FROM outbox WHERE sid = ? ORDER BY seq", sid).toArray();
    if (rows.length > 0) this.deleteUpTo(sid, rows[rows.length - 1].seq);
    return rows.map((row) => row.frame);
  }

  // ── sockets and rooms ──────────────────────────────────────
  insertSocket(row: SocketRow): void {
    this.sql.exec(
      "INSERT INTO sockets (id, sid, nsp, auth, data, connected_at) VALUES (?, ?, ?, ?, ?, ?)",
      row.id,
      row.sid,
      row.nsp,
      row.auth,
      row.data,
      row.connected_at,
    );
  }

  socket(id: string): SocketRow | null {
    return this.sql.exec<SocketRow>("SELECT * FROM sockets WHERE id = ?", id).toArray()[0] ?? null;
  }

  socketsOfSession(sid: string): SocketRow[] {
    return this.sql.exec<SocketRow>("SELECT * FROM sockets WHERE sid = ? ORDER BY connected_at", sid).toArray();
  }

  saveSocketData(id: string, data: string): void {
    this.sql.exec("UPDATE sockets SET data = ? WHERE id = ?", data, id);
  }

  deleteSocket(id: string): void {
    this.sql.exec("DELETE FROM socket_rooms WHERE socket_id = ?", id);
    this.sql.exec("DELETE FROM sockets WHERE id = ?", id);
  }

  roomsOf(socketId: string): string[] {
    return this.sql
      .exec<{ room: string }>("SELECT room FROM socket_rooms WHERE socket_id = ?", socketId)
      .toArray()
      .map((row) => row.room);
  }

  addRoom(socketId: string, room: string): boolean {
    return this.sql.exec("INSERT OR IGNORE INTO socket_rooms (socket_id, room) VALUES (?, ?)", socketId, room).rowsWritten > 0;
  }

  removeRoom(socketId: string, room: string): boolean {
    return this.sql.exec("DELETE FROM socket_rooms WHERE socket_id = ? AND room = ?", socketId, room).rowsWritten > 0;
  }

  // ── edges and lease reports (socketio/room-membership.ts) ─────
  /** Whether another socket of `nsp` on this host is in `room` (an index probe, never a count). */
  othersInRoom(nsp: string, room: string, socketId: string): boolean {
    return (
      this.sql
        .exec(
          `SELECT 1 FROM socket_rooms r JOIN sockets s ON s.id = r.socket_id
           WHERE r.room = ? AND r.socket_id != ? AND s.nsp = ? LIMIT 1`,
          room,
          socketId,
          nsp,
        )
        .toArray().length > 0
    );
  }

  /** Whether this host has another socket in `nsp`. */
  othersInNamespace(nsp: string, socketId: string): boolean {
    return this.sql.exec("SELECT 1 FROM sockets WHERE nsp = ? AND id != ? LIMIT 1", nsp, socketId).toArray().length > 0;
  }

  /** Sockets per namespace (lease renewals, once per lease period). */
  namespaceCounts(): Array<{ nsp: string; sockets: number }> {
    return this.sql.exec<{ nsp: string; sockets: number }>("SELECT nsp, COUNT(*) AS sockets FROM sockets GROUP BY nsp").toArray();
  }

  /** Every (socket, room) pair but a socket's own id, with the socket's data (lease renewals). */
  roomMembers(): Array<{ nsp: string; room: string; id: string; data: string }> {
    return this.sql
      .exec<{ nsp: string; room: string; id: string; data: string }>(
        "SELECT s.nsp AS nsp, r.room AS room, s.id AS id, s.data AS data FROM socket_rooms r JOIN sockets s ON s.id = r.socket_id WHERE r.room != r.socket_id",
      )
      .toArray();
  }

  /**
   * Sockets of a namespace selected like Socket.IO's adapter does: in any of `rooms`
   * (all sockets when empty), not in any of `except`. A socket's own id counts as a room.
   */
  select(nsp: string, rooms: string[], except: string[]): Array<{ id: string; sid: string }> {
    const exceptSet = new Set(except);
    const candidates =
      rooms.length === 0
        ? this.sql.exec<{ id: string; sid: string }>("SELECT id, sid FROM sockets WHERE nsp = ?", nsp).toArray()
        : this.sql
            .exec<{ id: string; sid: string }>(
              `SELECT DISTINCT s.id, s.sid FROM sockets s LEFT JOIN socket_rooms r ON r.socket_id = s.id
               WHERE s.nsp = ? AND (s.id IN (SELECT value FROM json_each(?)) OR r.room IN (SELECT value FROM json_each(?)))`,
              nsp,
              JSON.stringify(rooms),
              JSON.stringify(rooms),
            )
            .toArray();
    if (exceptSet.size === 0) return candidates;
    return candidates.filter((socket) => {
      if (exceptSet.has(socket.id)) return false;
      return !this.roomsOf(socket.id).some((room) => exceptSet.has(room));
    });
  }
}
