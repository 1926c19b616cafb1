/**
 * A ConnectionHost's load report, host side. Counts are kept where they change (the store's
 * write-through caches and in-memory message counters); the report is built and sent from the
 * alarm the host runs anyway:
 * - after a change, at most STATS_REPORT_MS later (the first change moves the host's alarm
 *   earlier to then, once per interval; nothing is written on the event's path). A host with
 *   sessions always has its heartbeat alarm; after its last session closed, the alarm set
 *   for the next heartbeat is still there, so the report of "no sessions" goes out too;
 * - while the host has sessions, at least once per lease period (a keepalive, riding a
 *   heartbeat alarm), so the aggregator can age out hosts that vanished.
 * One call to the aggregator per report: O(hosts) per interval, never one per socket.
 */
import type { EdgeioBindings } from "../bindings";
import { withTimeout } from "../cluster/apply";
import { DEFAULT_HOST_TIMEOUT_MS } from "../cluster/types";
import type { HostStore } from "../host-store";
import { presenceConfigFrom } from "../presence/config";
import { statsConfigFrom } from "./config";
import { statsStub } from "./stub";
import { MAX_IDS_PER_REPORT, type HostLoad } from "./types";

type LoadCounts = ReturnType<HostStore["loadCounts"]>;
type DistinctUsers = ReturnType<LoadCounts["users"]>;
type DistinctRooms = ReturnType<LoadCounts["rooms"]>;

export interface LoadReporterOptions {
  reportMs: number;
  keepaliveMs: number;
}

export class HostLoadReporter {
  /** When the pending changes must be reported (null: none; in memory, see the README's staleness note). */
  private dueAt: number | null = null;
  private sending = false;
  /** Users and rooms as last listed, and the store's structure version they were listed at. */
  private distinct: { version: number; users: DistinctUsers; rooms: DistinctRooms } | null = null;

  constructor(
    private readonly store: HostStore,
    private readonly options: LoadReporterOptions,
    /** Moves the host's alarm earlier to a time (HostAlarm.advance: never creates one). */
    private readonly wake: (at: number) => void,
    /** Delivers a report to the aggregator. */
    private readonly send: (report: HostLoad) => Promise<void> = async () => undefined,
  ) {
    store.onLoadChange = () => this.changed();
  }

  /** When the alarm must fire for a report (null: nothing pending). */
  alarmAt(now: number): number | null {
    if (this.dueAt === null) return null;
    // A report in flight: the next one waits for it rather than re-firing the alarm at once.
    return this.sending ? Math.max(this.dueAt, now + this.options.reportMs) : this.dueAt;
  }

  /** From the alarm: sends a report if one is due. Returns the send in flight (for waitUntil), or null. */
  onAlarm(now: number, host: string, send: (report: HostLoad) => Promise<void> = this.send): Promise<void> | null {
    if (this.sending) return null;
    const last = this.store.getMeta<number>("stats_reported_at");
    const changed = this.dueAt !== null && now >= this.dueAt;
    const keepalive = this.store.sessionCount() > 0 && (last === null || now - last >= this.options.keepaliveMs);
    if (!changed && !keepalive) return null;
    let report: HostLoad;
    try {
      report = this.build(now, host);
    } catch (error) {
      // Never in the way of the rest of the alarm (heartbeats, lease renewals): tried again next interval.
      console.error("edgeio: building the load report failed", error);
      this.dueAt = now + this.options.reportMs;
      return null;
    }
    this.dueAt = null;
    // Written here, in the alarm, never on an event's path.
    this.store.setMeta("stats_reported_at", now);
    this.sending = true;
    return send(report)
      .catch((error: unknown) => {
        console.error("edgeio: load report failed", error);
        // The messages go into the next report, which is due one interval from now.
        this.store.messages.in += report.messages.in;
        this.store.messages.out += report.messages.out;
        this.dueAt ??= now + this.options.reportMs;
      })
      .finally(() => {
        this.sending = false;
        if (this.dueAt !== null) this.wake(this.dueAt);
      });
  }

  private changed(): void {
    if (this.dueAt !== null) return;
    this.dueAt = Date.now() + this.options.reportMs;
    this.wake(this.dueAt);
  }

  /**
   * The report, from memory: distinct users and rooms are counted by the store's write-through
   * (host-load-index.ts; read from SQLite once per instance), listed again only when sockets,
   * rooms or socket.data changed since they were last listed (not for messages alone).
   */
  private build(now: number, host: string): HostLoad {
    if (this.distinct?.version !== this.store.structureVersion) {
      const version = this.store.structureVersion;
      const counts = this.store.loadCounts();
      this.distinct = { version, users: counts.users(MAX_IDS_PER_REPORT), rooms: counts.rooms(MAX_IDS_PER_REPORT) };
    }
    const { users, rooms } = this.distinct;
    const messages = { ...this.store.messages };
    this.store.messages.in = 0;
    this.store.messages.out = 0;
    return {
      host,
      at: now,
      // Open sessions: one being closed (waiting to deliver its close) is no longer a connection.
      sessions: this.store.sessions().filter((session) => session.closing === 0).length,
      namespaces: this.store.namespaceCounts().map(({ nsp, sockets }) => ({ nsp, sockets, rooms: rooms.perNamespace.get(nsp) ?? 0 })),
      users: users.ids,
      userCount: users.count,
      rooms: rooms.ids,
      roomCount: [...rooms.perNamespace.values()].reduce((sum, n) => sum + n, 0),
      messages,
    };
  }
}

/** A host's reporter, configured from its env (STATS_REPORT_MS; the keepalive is the lease period). */
export function hostLoadReporter(env: EdgeioBindings, store: HostStore, wake: (at: number) => void): HostLoadReporter {
  const options = { reportMs: statsConfigFrom(env).reportMs, keepaliveMs: presenceConfigFrom(env).leaseMs };
  return new HostLoadReporter(store, options, wake, async (report) => {
    const outcome = await withTimeout(
      Promise.resolve().then(() => statsStub(env).reportLoad(report)),
      DEFAULT_HOST_TIMEOUT_MS,
    );
    if (!outcome.ok) throw new Error(outcome.error);
    if (!outcome.value.ok) throw new Error(`the aggregator refused the report: ${outcome.value.error}`);
  });
}
