/**
 * RoomDO: one per (namespace, room). Keeps the exact membership of a room across every
 * ConnectionHost, so a broadcast costs one call per host that has members, never one per
 * socket. `room = null` (the namespace room) lists every socket of a namespace.
 */
import { DurableObject } from "cloudflare:workers";

export interface RoomMember {
  socketId: string;
  host: string;
}

export class RoomDO extends DurableObject {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS members (
        socket_id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        joined_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS members_by_host ON members (host);
    `);
  }

  join(socketId: string, host: string): void {
    this.sql.exec("INSERT OR IGNORE INTO members (socket_id, host, joined_at) VALUES (?, ?, ?)", socketId, host, Date.now());
  }

  leave(socketId: string): void {
    this.sql.exec("DELETE FROM members WHERE socket_id = ?", socketId);
  }

  /** The hosts that currently have at least one member: the fan-out list. */
  hosts(): string[] {
    return this.sql
      .exec<{ host: string }>("SELECT DISTINCT host FROM members")
      .toArray()
      .map((row) => row.host);
  }

  size(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM members").one().n;
  }

  members(): RoomMember[] {
    return this.sql
      .exec<{ socket_id: string; host: string }>("SELECT socket_id, host FROM members ORDER BY joined_at")
      .toArray()
      .map((row) => ({ socketId: row.socket_id, host: row.host }));
  }
}
