/**
 * A RoomDO's host table: which ConnectionHosts have members in the room and how many (as each
 * host last reported), with the time of its last report. This is the fan-out list: a broadcast
 * costs one call per row. Hosts write it only on their 0→1 / 1→0 edges and when they renew
 * their lease (from the heartbeat alarm they already run), never once per socket.
 */
import { z } from "zod";

export const ROOM_HOSTS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS room_hosts (
    host TEXT PRIMARY KEY,
    sockets INTEGER NOT NULL,
    renewed_at INTEGER NOT NULL
  );
`;

/** What a host reports for one room when it renews its lease (see cluster/lease.ts). */
export const LeaseReportSchema = z.object({
  /** The host's sockets in the room (presence members included). */
  sockets: z.number().int().min(0).max(10_000_000),
  /** Its presence members' socket ids: any other presence member of this host is a ghost. */
  presence: z.array(z.string().min(1).max(256)).max(1_000_000),
  /** The host's clock when it read its membership (members that joined later are kept). */
  asOf: z.number().int().min(0),
});
export type LeaseReport = z.infer<typeof LeaseReportSchema>;

export class RoomHosts {
  constructor(private readonly sql: SqlStorage) {}

  /** Adds the host (count 1) or keeps its row; a fresh row counts as renewed now. */
  add(host: string, now: number): void {
    this.sql.exec("INSERT OR IGNORE INTO room_hosts (host, sockets, renewed_at) VALUES (?, 1, ?)", host, now);
  }

  /** The host's renewal: its count, and it is alive now. */
  renew(host: string, sockets: number, now: number): void {
    this.sql.exec(
      "INSERT INTO room_hosts (host, sockets, renewed_at) VALUES (?1, ?2, ?3) ON CONFLICT (host) DO UPDATE SET sockets = ?2, renewed_at = ?3",
      host,
      sockets,
      now,
    );
  }

  remove(host: string): void {
    this.sql.exec("DELETE FROM room_hosts WHERE host = ?", host);
  }

  list(): string[] {
    return this.sql
      .exec<{ host: string }>("SELECT host FROM room_hosts")
      .toArray()
      .map((row) => row.host);
  }

  count(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM room_hosts").one().n;
  }

  /** Sockets in the room as the hosts last reported them. */
  sockets(): number {
    return this.sql.exec<{ n: number | null }>("SELECT SUM(sockets) AS n FROM room_hosts").one().n ?? 0;
  }

  /** Hosts whose last renewal is older than `before`: gone, or cut off from the room. */
  expired(before: number): string[] {
    return this.sql
      .exec<{ host: string }>("SELECT host FROM room_hosts WHERE renewed_at < ?", before)
      .toArray()
      .map((row) => row.host);
  }

  /**
   * Rooms stored before host-level membership listed every socket in `members`: their hosts
   * become rows (counted), and the members without presence are dropped, since hosts now
   * report those by count. Runs once, when the table is empty and old members exist.
   */
  migrateFromMembers(now: number): void {
    if (this.count() > 0) return;
    const old = this.sql.exec<{ host: string; n: number }>("SELECT host, COUNT(*) AS n FROM members GROUP BY host").toArray();
    if (old.length === 0) return;
    for (const row of old) this.renew(row.host, row.n, now);
    this.sql.exec("DELETE FROM members WHERE user_id IS NULL");
  }
}
