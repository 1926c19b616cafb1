/**
 * A RoomDO's subscribers: the ConnectionHosts that keep a copy of its host list
 * (cluster/room-hosts-cache.ts) and must hear before a host is added. Durable (a restarted
 * RoomDO still tells them), with an in-memory copy in front; a subscription lasts at least
 * HOSTS_CACHE_TTL_MS after each fetch (rewritten at most once per TTL), then lapses. Capped:
 * beyond MAX_SUBSCRIBERS a host gets the list without keeping it, so a change costs a bounded
 * number of notices.
 */
import { HOSTS_CACHE_TTL_MS } from "../cluster/room-hosts-cache";

export const ROOM_SUBSCRIBERS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS room_subscribers (
    host TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
`;

/** Hosts told of each change at most; others fetch every time. */
export const MAX_SUBSCRIBERS = 64;
/** Clock-rate slack: the room keeps a subscription a little longer than the host keeps its copy. */
const SLACK_MS = 5_000;

export type Subscriber = { host: string; key: string };

export class RoomSubscribers {
  private cache: Map<string, { key: string; expiresAt: number }> | undefined;

  constructor(private readonly sql: SqlStorage) {}

  private get rows(): Map<string, { key: string; expiresAt: number }> {
    if (!this.cache) {
      const rows = this.sql.exec<{ host: string; key: string; expires_at: number }>("SELECT * FROM room_subscribers").toArray();
      this.cache = new Map(rows.map((row) => [row.host, { key: row.key, expiresAt: row.expires_at }]));
    }
    return this.cache;
  }

  /** Records that `host` keeps a copy from now on; false: over the cap, it must not keep one. */
  subscribe(host: string, key: string, now: number): boolean {
    const current = this.rows.get(host);
    if (current && current.key === key && current.expiresAt >= now + HOSTS_CACHE_TTL_MS + SLACK_MS) return true;
    if (!current) {
      this.prune(now);
      if (this.rows.size >= MAX_SUBSCRIBERS) return false;
    }
    // Twice the TTL: the next fetches within a TTL write nothing.
    const expiresAt = now + 2 * HOSTS_CACHE_TTL_MS + SLACK_MS;
    this.sql.exec(
      "INSERT INTO room_subscribers (host, key, expires_at) VALUES (?1, ?2, ?3) ON CONFLICT (host) DO UPDATE SET key = ?2, expires_at = ?3",
      host,
      key,
      expiresAt,
    );
    this.rows.set(host, { key, expiresAt });
    return true;
  }

  /** The subscribers still holding a copy, but `except`. */
  live(now: number, except: string): Subscriber[] {
    this.prune(now);
    return [...this.rows].filter(([host]) => host !== except).map(([host, { key }]) => ({ host, key }));
  }

  private prune(now: number): void {
    const lapsed = [...this.rows].filter(([, row]) => row.expiresAt <= now).map(([host]) => host);
    if (lapsed.length === 0) return;
    this.sql.exec("DELETE FROM room_subscribers WHERE expires_at <= ?", now);
    for (const host of lapsed) this.rows.delete(host);
  }
}
