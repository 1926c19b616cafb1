/**
 * Everything a ConnectionHost must remember across eviction and hibernation, in its SQLite:
 * Engine.IO sessions, queued long-polling frames (host-outbox.ts), Socket.IO sockets (namespace,
 * auth, socket.data) and their rooms (host-sockets.ts, host-socket-queries.ts), and host metadata.
 *
 * Reads are served from memory: each table is read at most once per instance (per row, or
 * whole where a scan is needed anyway) and then kept in step by write-through, so storage is
 * never behind memory. Stats counters (wakes, alarms, …) are the exception: they are counted
 * in memory and added to SQLite lazily (`flushCounters`, at most once per alarm), so a wake
 * that changes nothing writes nothing; they share one row with the values the alarm changes
 * every time it runs (host-meta.ts), so an idle host's alarm writes one row. A direct WebSocket
 * session's row, until its CONNECT, is kept in its WebSocket's attachment instead (createSession).
 */
import type { CountingSql } from "./billed-work";
import type { TransportName } from "./config";
import type { PendingSession, PendingSocket } from "./engine/types";
import { HostMeta } from "./host-meta";
import { HOST_SCHEMA } from "./host-schema";
import { PollOutbox } from "./host-outbox";
import type { SocketRow } from "./host-sockets";
import { fitsKeptBack, insertSessionRow, newSessionRow, pendingOf, type SessionRow } from "./session-rows";

export type { SocketRow } from "./host-sockets";
export type { SessionRow } from "./session-rows";

export class HostStore extends PollOutbox {
  /** host_meta (host-meta.ts): the alarm's values and the counters in one row, the rest write-through. */
  private readonly hostMeta: HostMeta;
  /** Session rows by sid (all of them once `allSessionsLoaded`). */
  private readonly sessionRows = new Map<string, SessionRow>();
  /** Sessions in `sessionRows` whose row is not written yet (it is in their WebSocket's attachment). */
  private readonly pendingSessions = new Set<string>();
  private allSessionsLoaded = false;
  private sessionTotal: number | undefined;
  /** Pending sessions with sockets: connected, nothing written, all of it in their attachment. */
  private readonly keptBackSessions = new Set<string>();
  /** Puts a pending session in its WebSocket's attachment (websocket.ts); false: it did not fit. */
  attachPending: (sid: string, pending: PendingSession) => boolean = () => false;
  /** Rebuilds every pending session from the WebSockets' attachments, once per instance (sessions.ts). */
  restoreAllPending: () => void = () => undefined;

  constructor(sql: CountingSql) {
    super(sql);
    sql.exec(HOST_SCHEMA);
    this.hostMeta = new HostMeta(sql);
  }

  // ── host meta (host-meta.ts) ─────────────────────────────
  getMeta<T extends string | number>(key: string): T | null {
    return this.hostMeta.get<T>(key);
  }

  setMeta(key: string, value: string | number | null): void {
    this.hostMeta.set(key, value);
  }

  deleteMeta(key: string): void {
    this.hostMeta.delete(key);
  }

  /** Adds 1 to a numeric host counter (stats), in memory until the next `flushCounters`. */
  bumpMeta(key: string): void {
    this.hostMeta.bump(key);
  }

  /** Adds the counted increments to SQLite (one row, the alarm record's). */
  flushCounters(): void {
    this.hostMeta.flushCounters();
  }

  /** Runs `body` (the alarm's work) with the alarm record written once at its end, if it changed. */
  batchMeta<T>(body: () => T): T {
    return this.hostMeta.batch(body);
  }

  // ── sessions ───────────────────────────────────────────────
  /**
   * `persist: false` (opened directly over WebSocket, its row in the WebSocket's attachment):
   * the row stays in memory, pending, until the first write that needs it (the CONNECT's socket
   * row, a session update) writes it in the same turn, so a connect commits once (issue 11). After
   * an eviction, `restorePendingSession` rebuilds it from the attachment (websocket.ts, sessions.ts).
   * Polling sessions, and handshakes too big for an attachment, are written at once.
   */
  createSession(sid: string, transport: TransportName, now: number, connectDeadline: number, handshake: string, persist = true): void {
    this.addSession(newSessionRow(sid, transport, now, connectDeadline, handshake), persist);
  }

  /** A pending session back from its WebSocket's attachment (memory only, as at its handshake), with its sockets. */
  restorePendingSession(row: SessionRow, sockets: PendingSocket[] = []): SessionRow {
    const stored = this.session(row.sid);
    if (stored) return stored;
    // A session with sockets connected: its connect deadline is over (else each would wake the host once more).
    if (sockets.length > 0) row.connect_deadline = null;
    // Back in memory after an eviction, not a change of the host's load: no load report is due for it.
    const onLoadChange = this.onLoadChange;
    this.onLoadChange = () => undefined;
    try {
      this.addSession(row, false);
      for (const socket of sockets) {
        const { connectedAt, ...rest } = socket;
        this.rememberSocket({ ...rest, sid: row.sid, connected_at: connectedAt }, true);
      }
    } finally {
      this.onLoadChange = onLoadChange;
    }
    if (sockets.length > 0) this.keptBackSessions.add(row.sid);
    return row;
  }

  // ── kept-back sockets (issue 11: a WebSocket CONNECT commits nothing) ──
  // A direct WebSocket session's CONNECT writes no row: the session and its sockets stay in
  // memory and in the WebSocket's attachment (which survives hibernation and eviction without a
  // commit), so the CONNECT reply waits for no storage commit. They are written only when a write
  // of their own needs their rows in SQLite: a change of the session's row, a membership of one
  // of its sockets (room lookups join memberships with socket rows), a recovered socket moved to
  // it, or an attachment that would be too big. Another session's writes leave them as they are:
  // an attachment rebuilds them whatever SQLite holds. After an eviction, lookups that may name
  // such a socket first rebuild them all from the attachments.
  protected override keptBack(sid: string): boolean {
    return this.pendingSessions.has(sid);
  }

  protected override attachKeptBack(sid: string): boolean {
    const row = this.sessionRows.get(sid);
    if (!row) return false;
    const sockets = this.memorySocketsOf(sid).map(({ id, nsp, auth, data, connected_at }) => ({
      id,
      nsp,
      auth,
      data,
      connectedAt: connected_at,
    }));
    const pending = pendingOf(row, sockets);
    if (sockets.length === 0) this.keptBackSessions.delete(sid);
    if (!fitsKeptBack(pending) || !this.attachPending(sid, pending)) return false;
    if (sockets.length > 0) this.keptBackSessions.add(sid);
    return true;
  }

  /**
   * A socket is gone. When that leaves its session (a direct WebSocket one, written) with no
   * socket, the session goes back to its WebSocket's attachment, as before its first CONNECT, and
   * its row is deleted in this turn: the session's close, which usually follows (socket.io-client
   * closes the connection once its last namespace has left), then writes nothing, so a
   * disconnect commits once, not twice (issue 11).
   */
  override deleteSocket(id: string): void {
    const sid = this.socket(id)?.sid;
    super.deleteSocket(id);
    if (sid !== undefined) this.keepBackSocketless(sid);
  }

  private keepBackSocketless(sid: string): void {
    const row = this.sessionRows.get(sid);
    if (!row || this.pendingSessions.has(sid) || row.closing !== 0 || !this.knownSocketless(sid)) return;
    // Only a row its attachment rebuilds as it is (pendingSessionRow): a direct WebSocket session,
    // no upgrade under way, no v3 pong recorded, nothing queued.
    if (row.transport !== "websocket" || row.upgrading !== 0 || row.last_pong_at !== row.created_at) return;
    if (this.queueSizes.get(sid)?.frames !== 0) return;
    const pending = pendingOf(row, []);
    if (!fitsKeptBack(pending) || !this.attachPending(sid, pending)) return;
    this.sql.exec("DELETE FROM sessions WHERE sid = ?", sid);
    this.pendingSessions.add(sid);
  }

  protected override restoreKeptBack(): void {
    this.restoreAllPending();
  }

  protected override keptBackSockets(): SocketRow[] {
    return [...this.keptBackSessions].flatMap((sid) => this.memorySocketsOf(sid));
  }

  private addSession(row: SessionRow, persist: boolean): void {
    if (persist) insertSessionRow(this.sql, row);
    else this.pendingSessions.add(row.sid);
    this.sessionRows.set(row.sid, row);
    this.queueSizes.set(row.sid, { frames: 0, bytes: 0 });
    this.newSessionSockets(row.sid);
    if (this.sessionTotal !== undefined) this.sessionTotal += 1;
    this.structureChanged();
  }

  /** Writes a pending session's row and its kept-back sockets' (see createSession); nothing when stored already. */
  override persistSession(sid: string): void {
    const row = this.pendingSessions.delete(sid) ? this.sessionRows.get(sid) : undefined;
    this.keptBackSessions.delete(sid);
    if (!row) return;
    insertSessionRow(this.sql, row);
    for (const socket of this.memorySocketsOf(sid)) this.writeSocketRow(socket);
  }

  session(sid: string): SessionRow | null {
    const cached = this.sessionRows.get(sid);
    if (cached) return cached;
    if (this.allSessionsLoaded) return null;
    const row = this.sql.exec<SessionRow>("SELECT * FROM sessions WHERE sid = ?", sid).toArray()[0] ?? null;
    if (row) this.sessionRows.set(sid, row); // unknown sids are not remembered: they would pile up
    return row;
  }

  /** Every session (read from SQLite once per instance, then from memory). */
  sessions(): SessionRow[] {
    if (!this.allSessionsLoaded) {
      for (const row of this.sql.exec<SessionRow>("SELECT * FROM sessions").toArray()) {
        if (!this.sessionRows.get(row.sid)) this.sessionRows.set(row.sid, row);
      }
      this.allSessionsLoaded = true;
      this.sessionTotal = this.sessionRows.size;
    }
    return [...this.sessionRows.values()];
  }

  /** Every session's handshake time (the heartbeat's schedule follows from it alone). */
  sessionCreatedTimes(): number[] {
    return this.sessions().map((row) => row.created_at);
  }

  sessionCount(): number {
    if (this.sessionTotal === undefined) {
      // After an eviction, kept-back sessions are only in their attachments: counted once back.
      this.restoreAllPending();
      this.sessionTotal = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sessions").one().n + this.pendingSessions.size;
    }
    return this.sessionTotal;
  }

  setTransport(sid: string, transport: TransportName): void {
    this.update(sid, { transport, upgrading: 0 }, "UPDATE sessions SET transport = ?, upgrading = 0 WHERE sid = ?", transport);
  }

  /** 0: no upgrade under way; 1: a WebSocket probe is open; 2: the probe answered "3probe". */
  setUpgradeState(sid: string, state: 0 | 1 | 2): void {
    this.update(sid, { upgrading: state }, "UPDATE sessions SET upgrading = ? WHERE sid = ?", state);
  }

  /**
   * `closing` holds when the session began closing (0: open). `persist: false` when the session
   * is deleted in this same turn (a WebSocket session's close or fault): the mark is then in
   * memory only, since the turn's writes commit together and the delete is one of them.
   */
  markClosing(sid: string, now: number, persist = true): void {
    const closing = Math.max(now, 1);
    if (persist) this.update(sid, { closing }, "UPDATE sessions SET closing = ? WHERE sid = ?", closing);
    else {
      const row = this.session(sid);
      if (row) row.closing = closing;
    }
    this.structureChanged(); // a closing session is no longer a connection (stats/host-load.ts)
  }

  /** Writes a closing mark that `markClosing(…, false)` kept in memory (the session was not deleted after all). */
  persistClosing(sid: string): void {
    const row = this.session(sid);
    if (row && !this.pendingSessions.has(sid)) this.sql.exec("UPDATE sessions SET closing = ? WHERE sid = ?", row.closing, sid);
  }

  recordPong(sid: string, now: number): void {
    this.update(sid, { last_pong_at: now }, "UPDATE sessions SET last_pong_at = ? WHERE sid = ?", now);
  }

  /**
   * The session connected a namespace: its connect deadline is off, in memory only (no write
   * per connect). A new instance reads the stored deadline back; `sessionsPastConnectDeadline`
   * then sees the session's sockets and clears it for good.
   */
  clearConnectDeadline(sid: string): void {
    const row = this.session(sid);
    if (row) row.connect_deadline = null;
  }

  /** Write-through of one session's columns; nothing is written when nothing changes. */
  private update(sid: string, changes: Partial<SessionRow>, query: string, ...values: Array<string | number>): void {
    const row = this.session(sid);
    if (!row) return;
    const entries = Object.entries(changes) as Array<[keyof SessionRow, never]>;
    if (entries.every(([key, value]) => row[key] === value)) return;
    const pending = this.pendingSessions.has(sid);
    for (const [key, value] of entries) row[key] = value;
    // A pending session is written whole, with the change; one that is closing stays in memory (it is deleted next).
    if (pending && !("closing" in changes)) this.persistSession(sid);
    else if (!pending) this.sql.exec(query, ...values, sid);
  }

  earliestConnectDeadline(): number | null {
    let earliest: number | null = null;
    for (const row of this.sessions()) {
      if (row.closing || row.connect_deadline === null) continue;
      if (earliest === null || row.connect_deadline < earliest) earliest = row.connect_deadline;
    }
    return earliest;
  }

  /** Sessions that connected no namespace in time (a session with sockets has its deadline cleared). */
  sessionsPastConnectDeadline(now: number): string[] {
    const due = this.sessions().filter((row) => row.connect_deadline !== null && row.connect_deadline <= now && row.closing === 0);
    for (const row of due) {
      if (this.socketsOfSession(row.sid).length === 0) continue;
      // A kept-back session (back from its attachment) is not written for this: the next instance clears it again.
      if (!this.pendingSessions.has(row.sid)) this.sql.exec("UPDATE sessions SET connect_deadline = NULL WHERE sid = ?", row.sid);
      row.connect_deadline = null;
    }
    return due.filter((row) => row.connect_deadline !== null).map((row) => row.sid);
  }

  deleteSession(sid: string): void {
    const pending = this.pendingSessions.delete(sid); // never written, nor ever queued to (WebSocket)
    this.keptBackSessions.delete(sid);
    if (!pending) this.clearQueue(sid);
    const deleted = pending || this.sql.exec("DELETE FROM sessions WHERE sid = ?", sid).rowsWritten > 0;
    this.sessionRows.delete(sid);
    this.forgetSessionSockets(sid);
    if (deleted && this.sessionTotal !== undefined) this.sessionTotal -= 1;
    if (deleted) this.structureChanged();
  }
}
