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

/** One host's row, as held in memory. */
type HostEntry = { sockets: number; renewedAt: number };

/**
 * The table with an in-memory copy in front, loaded once per instance (after an eviction the
 * next use reloads it) and written through: `list()`, asked once per broadcast, reads no row.
 */
export class RoomHosts {
  private cache: Map<string, HostEntry> | undefined;

  constructor(private readonly sql: SqlStorage) {}

  private get rows(): Map<string, HostEntry> {
    if (!this.cache) {
      const rows = this.sql.exec<{ host: string; sockets: number; renewed_at: number }>("SELECT * FROM room_hosts").toArray();
      this.cache = new Map(rows.map((row) => [row.host, { sockets: row.sockets, renewedAt: row.renewed_at }]));
    }
    return this.cache;
  }

  /** Adds the host (count 1) or keeps its row; a fresh row counts as renewed now. True: it was not listed. */
  add(host: string, now: number): boolean {
    if (this.rows.has(host)) return false;
    this.sql.exec("INSERT OR IGNORE INTO room_hosts (host, sockets, renewed_at) VALUES (?, 1, ?)", host, now);
    this.rows.set(host, { sockets: 1, renewedAt: now });
    return true;
  }

  /** The host's renewal: its count, and it is alive now. True: it was not listed (dropped, or a lost edge). */
  renew(host: string, sockets: number, now: number): boolean {
    const added = !this.rows.has(host);
    this.sql.exec(
      "INSERT INTO room_hosts (host, sockets, renewed_at) VALUES (?1, ?2, ?3) ON CONFLICT (host) DO UPDATE SET sockets = ?2, renewed_at = ?3",
      host,
      sockets,
      now,
    );
    this.rows.set(host, { sockets, renewedAt: now });
    return added;
  }

  remove(host: string): void {
    if (!this.rows.has(host)) return;
    this.sql.exec("DELETE FROM room_hosts WHERE host = ?", host);
    this.rows.delete(host);
  }

  list(): string[] {
    return [...this.rows.keys()];
  }

  count(): number {
    return this.rows.size;
  }

  /** Sockets in the room as the hosts last reported them. */
  sockets(): number {
    let sum = 0;
    for (const entry of this.rows.values()) sum += entry.sockets;
    return sum;
  }

  /** Hosts whose last renewal is older than `before`: gone, or cut off from the room. */
  expired(before: number): string[] {
    return [...this.rows].filter(([, entry]) => entry.renewedAt < before).map(([host]) => host);
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
