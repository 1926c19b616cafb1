/**
 * The cluster's load, aggregated: one row per reporting ConnectionHost (its last report), the
 * message counts in 10-second buckets, and monotonic totals. It lives in one object (a RoomDO
 * under a reserved name, see stub.ts) that hosts write O(hosts) times per report interval and
 * `/v1/stats` reads once: nothing here ever calls a host, so reading wakes none.
 *
 * A host that reports no sessions is removed; one that stops reporting (crashed, or its state
 * lost) is aged out after `expiryMs` (3 lease periods, as rooms do).
 */
import { type ClusterStats, type HostLoad, HostLoadSchema, type HostLoadSummary, type ReportAnswer } from "./types";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cluster_hosts (
  host TEXT PRIMARY KEY,
  report TEXT NOT NULL,
  reported_at INTEGER NOT NULL,
  since INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cluster_messages (
  bucket INTEGER PRIMARY KEY,
  msgs_in INTEGER NOT NULL,
  msgs_out INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cluster_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

const BUCKET_MS = 10_000;
const MINUTE_MS = 60_000;
/** Message buckets kept (an hour): older ones are deleted as reports arrive. */
const KEEP_BUCKETS_MS = 3_600_000;

export class ClusterLoad {
  constructor(
    private readonly sql: SqlStorage,
    private readonly options: { expiryMs: number; reportMs: number },
  ) {
    sql.exec(SCHEMA);
  }

  /** One host's report (validated: it is input; an invalid one is refused, with zod's issues). */
  record(input: HostLoad, now: number): ReportAnswer {
    const parsed = HostLoadSchema.safeParse(input);
    if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") };
    const report = parsed.data;
    this.expire(now);
    const previous = this.sql
      .exec<{ at: number }>("SELECT json_extract(report, '$.at') AS at FROM cluster_hosts WHERE host = ?", report.host)
      .toArray()[0];
    if (report.sessions === 0) this.sql.exec("DELETE FROM cluster_hosts WHERE host = ?", report.host);
    else if (!previous || previous.at <= report.at) {
      this.sql.exec(
        `INSERT INTO cluster_hosts (host, report, reported_at, since) VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (host) DO UPDATE SET report = ?2, reported_at = ?3`,
        report.host,
        JSON.stringify(report),
        now,
      );
    }
    this.startedAt(now);
    if (report.messages.in > 0 || report.messages.out > 0) this.countMessages(report.messages, now);
    return { ok: true };
  }

  read(now: number): ClusterStats {
    this.expire(now);
    this.startedAt(now);
    const rows = this.sql
      .exec<{ report: string; reported_at: number; since: number }>("SELECT report, reported_at, since FROM cluster_hosts ORDER BY host")
      .toArray();
    const reports = rows.map((row) => ({ ...row, load: JSON.parse(row.report) as HostLoad }));
    const users = union(reports.map((r) => ({ ids: r.load.users, count: r.load.userCount })));
    const rooms = union(reports.map((r) => ({ ids: r.load.rooms, count: r.load.roomCount })));
    const namespaces = new Map<string, { sockets: number; rooms: number }>();
    for (const { load } of reports) {
      for (const entry of load.namespaces) {
        const total = namespaces.get(entry.nsp) ?? { sockets: 0, rooms: 0 };
        total.sockets += entry.sockets;
        // Summed only where a host listed no ids (an upper bound); exact rooms come from the union below.
        if (load.rooms === null) total.rooms += entry.rooms;
        namespaces.set(entry.nsp, total);
      }
    }
    for (const key of rooms.ids) {
      const [nsp] = JSON.parse(key) as [string, string];
      const total = namespaces.get(nsp) ?? { sockets: 0, rooms: 0 };
      total.rooms += 1;
      namespaces.set(nsp, total);
    }
    const hosts: HostLoadSummary[] = reports.map(({ load, reported_at, since }) => ({
      host: load.host,
      connections: load.sessions,
      sockets: load.namespaces.reduce((sum, entry) => sum + entry.sockets, 0),
      namespaces: Object.fromEntries(load.namespaces.map((entry) => [entry.nsp, entry.sockets])),
      users: load.userCount,
      rooms: load.roomCount,
      reportedAt: new Date(reported_at).toISOString(),
      since: new Date(since).toISOString(),
    }));
    const started = this.meta("started_at");
    const minute = this.sql
      .exec<{ i: number | null; o: number | null }>(
        "SELECT SUM(msgs_in) AS i, SUM(msgs_out) AS o FROM cluster_messages WHERE bucket > ?",
        Math.floor((now - MINUTE_MS) / BUCKET_MS),
      )
      .one();
    return {
      time: new Date(now).toISOString(),
      startedAt: started === null ? null : new Date(started).toISOString(),
      uptimeSeconds: started === null ? 0 : Math.max(0, Math.floor((now - started) / 1000)),
      reportIntervalMs: this.options.reportMs,
      connections: hosts.reduce((sum, host) => sum + host.connections, 0),
      sockets: hosts.reduce((sum, host) => sum + host.sockets, 0),
      users: users.count,
      usersExact: users.exact,
      rooms: rooms.count,
      roomsExact: rooms.exact,
      namespaces: [...namespaces].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([namespace, total]) => ({ namespace, ...total })),
      hosts,
      messages: {
        inPerMinute: minute.i ?? 0,
        outPerMinute: minute.o ?? 0,
        inTotal: this.meta("messages_in") ?? 0,
        outTotal: this.meta("messages_out") ?? 0,
      },
    };
  }

  /** Hosts silent for longer than the expiry are gone (they would have reported zero otherwise). */
  private expire(now: number): void {
    this.sql.exec("DELETE FROM cluster_hosts WHERE reported_at < ?", now - this.options.expiryMs);
  }

  /** Uptime counts from the moment the cluster last went from no reporting host to some. */
  private startedAt(now: number): void {
    const listed = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM cluster_hosts").one().n;
    if (listed === 0) this.sql.exec("DELETE FROM cluster_meta WHERE key = 'started_at'");
    else this.sql.exec("INSERT OR IGNORE INTO cluster_meta (key, value) VALUES ('started_at', ?)", now);
  }

  private countMessages(messages: HostLoad["messages"], now: number): void {
    this.sql.exec(
      `INSERT INTO cluster_messages (bucket, msgs_in, msgs_out) VALUES (?1, ?2, ?3)
       ON CONFLICT (bucket) DO UPDATE SET msgs_in = msgs_in + ?2, msgs_out = msgs_out + ?3`,
      Math.floor(now / BUCKET_MS),
      messages.in,
      messages.out,
    );
    this.sql.exec("DELETE FROM cluster_messages WHERE bucket < ?", Math.floor((now - KEEP_BUCKETS_MS) / BUCKET_MS));
    for (const [key, value] of [
      ["messages_in", messages.in],
      ["messages_out", messages.out],
    ] as const) {
      this.sql.exec("INSERT INTO cluster_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = value + ?2", key, value);
    }
  }

  private meta(key: string): number | null {
    return this.sql.exec<{ value: number }>("SELECT value FROM cluster_meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }
}

/** Distinct ids across hosts: exact while every host listed its ids, else the listed union plus the others' counts. */
function union(sets: Array<{ ids: string[] | null; count: number }>): { ids: Set<string>; count: number; exact: boolean } {
  const ids = new Set<string>();
  let unlisted = 0;
  for (const set of sets) {
    if (set.ids === null) unlisted += set.count;
    else for (const id of set.ids) ids.add(id);
  }
  return { ids, count: ids.size + unlisted, exact: unlisted === 0 };
}
