/**
 * A host's connection-state recovery state, in its SQLite (so it survives eviction and restarts):
 * the sockets waiting for their client to come back (their rows and rooms stay in `sockets` /
 * `socket_rooms`, so broadcasts keep selecting them), the packets each missed (a bounded log),
 * and forwards: sockets whose id names this host but which recovered on another one.
 * Read once per instance, then kept in memory and written through.
 */
import { base64ToBytes, bytesToBase64 } from "../../protocol/base64";
import type { CountingSql } from "../billed-work";
import type { LoggedPacket } from "./hand-over";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS recovery_sockets (
  socket_id TEXT PRIMARY KEY,
  nsp TEXT NOT NULL,
  disconnected_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  packets INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS recovery_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  socket_id TEXT NOT NULL,
  frames TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS recovery_log_socket ON recovery_log (socket_id, seq);
CREATE TABLE IF NOT EXISTS recovery_forwards (
  socket_id TEXT PRIMARY KEY,
  host TEXT NOT NULL
);
`;

export interface SuspendedSocket {
  socket_id: string;
  nsp: string;
  disconnected_at: number;
  expires_at: number;
  packets: number;
  bytes: number;
}

type StoredFrame = string | { b: string };
/** A log row's `frames`: the frames alone (rows written before emits had ids), or with the emit's id. */
type StoredPacket = StoredFrame[] | { o: string; f: StoredFrame[] };

export class RecoveryStore {
  private suspendedCache: Map<string, SuspendedSocket> | undefined;
  private forwardCache: Map<string, string> | undefined;

  constructor(private readonly sql: CountingSql) {
    sql.exec(SCHEMA);
  }

  private get suspended(): Map<string, SuspendedSocket> {
    if (!this.suspendedCache) {
      const rows = this.sql.exec<SuspendedSocket & Record<string, SqlStorageValue>>("SELECT * FROM recovery_sockets").toArray();
      this.suspendedCache = new Map(rows.map((row) => [row.socket_id, { ...row }]));
    }
    return this.suspendedCache;
  }

  private get forwards(): Map<string, string> {
    if (!this.forwardCache) {
      const rows = this.sql.exec<{ socket_id: string; host: string }>("SELECT * FROM recovery_forwards").toArray();
      this.forwardCache = new Map(rows.map((row) => [row.socket_id, row.host]));
    }
    return this.forwardCache;
  }

  isSuspended(socketId: string): boolean {
    return this.suspended.has(socketId);
  }

  get(socketId: string): SuspendedSocket | undefined {
    return this.suspended.get(socketId);
  }

  suspend(socketId: string, nsp: string, now: number, windowMs: number): void {
    const row: SuspendedSocket = { socket_id: socketId, nsp, disconnected_at: now, expires_at: now + windowMs, packets: 0, bytes: 0 };
    this.sql.exec("DELETE FROM recovery_log WHERE socket_id = ?", socketId);
    this.sql.exec(
      "INSERT OR REPLACE INTO recovery_sockets (socket_id, nsp, disconnected_at, expires_at, packets, bytes) VALUES (?, ?, ?, ?, 0, 0)",
      socketId,
      nsp,
      row.disconnected_at,
      row.expires_at,
    );
    this.suspended.set(socketId, row);
  }

  /** Appends one missed packet (`op`: its emit's id); false (nothing written) when it would pass a bound. */
  append(socketId: string, { frames, op }: LoggedPacket, bounds: { maxPackets: number; maxBytes: number }): boolean {
    const row = this.suspended.get(socketId);
    if (!row) return false;
    const stored = frames.map((frame): StoredFrame => (typeof frame === "string" ? frame : { b: bytesToBase64(new Uint8Array(frame)) }));
    const text = JSON.stringify(op === undefined ? stored : ({ o: op, f: stored } satisfies StoredPacket));
    if (row.packets + 1 > bounds.maxPackets || row.bytes + text.length > bounds.maxBytes) return false;
    this.sql.exec("INSERT INTO recovery_log (socket_id, frames) VALUES (?, ?)", socketId, text);
    row.packets += 1;
    row.bytes += text.length;
    this.sql.exec("UPDATE recovery_sockets SET packets = ?, bytes = ? WHERE socket_id = ?", row.packets, row.bytes, socketId);
    return true;
  }

  /** The socket's missed packets in order; they and its recovery row are deleted. */
  take(socketId: string): { suspended: SuspendedSocket; packets: LoggedPacket[] } | null {
    const suspended = this.suspended.get(socketId);
    if (!suspended) return null;
    const rows = this.sql.exec<{ frames: string }>("SELECT frames FROM recovery_log WHERE socket_id = ? ORDER BY seq", socketId).toArray();
    this.forget(socketId);
    const packets = rows.map((row): LoggedPacket => {
      const stored = JSON.parse(row.frames) as StoredPacket;
      const [frames, op] = Array.isArray(stored) ? [stored, undefined] : [stored.f, stored.o];
      const decoded = frames.map((frame) => (typeof frame === "string" ? frame : base64ToBytes(frame.b).slice().buffer));
      return op === undefined ? { frames: decoded } : { op, frames: decoded };
    });
    return { suspended, packets };
  }

  forget(socketId: string): void {
    if (!this.suspended.delete(socketId)) return;
    this.sql.exec("DELETE FROM recovery_log WHERE socket_id = ?", socketId);
    this.sql.exec("DELETE FROM recovery_sockets WHERE socket_id = ?", socketId);
  }

  /** Sockets whose window ended by `now`. */
  expired(now: number): SuspendedSocket[] {
    return [...this.suspended.values()].filter((row) => row.expires_at <= now);
  }

  /** The earliest end of a window (for the host's alarm), or null. */
  nextExpiry(): number | null {
    let next: number | null = null;
    for (const row of this.suspended.values()) if (next === null || row.expires_at < next) next = row.expires_at;
    return next;
  }

  forwardOf(socketId: string): string | undefined {
    return this.forwards.get(socketId);
  }

  setForward(socketId: string, host: string): void {
    if (this.forwards.get(socketId) === host) return;
    this.sql.exec("INSERT OR REPLACE INTO recovery_forwards (socket_id, host) VALUES (?, ?)", socketId, host);
    this.forwards.set(socketId, host);
  }

  dropForward(socketId: string): void {
    if (!this.forwards.delete(socketId)) return;
    this.sql.exec("DELETE FROM recovery_forwards WHERE socket_id = ?", socketId);
  }

  /** Whether any forward exists (the hot path skips the lookup otherwise). */
  hasForwards(): boolean {
    return this.forwards.size > 0;
  }
}
