/** What a ConnectionHost reports about itself (`stats()` RPC, `/_edgeio/hosts`, the bench). */
import type { BilledWorkCounts } from "./billed-work";
import { LIMIT_MESSAGES, type LimitName } from "./engine/limits";
import type { HostStore } from "./host-store";

export interface HostStats {
  host: string | null;
  instanceId: string;
  constructions: number;
  wakes: number;
  alarms: number;
  sessions: number;
  sockets: number;
  webSockets: number;
  /** Backpressure: volatile packets dropped because a session's transport was not writable. */
  volatileDropped: number;
  /** Sessions closed for a limit, by limit (README "Limits"). */
  closedForLimits: Partial<Record<LimitName, number>>;
  /** Billed work of this instance (in memory, since it was constructed): see billed-work.ts. */
  work: BilledWorkCounts;
}

/** Reads the counters (flushed to SQLite first, so a later instance continues from them). */
export function hostStatsOf(store: HostStore, live: Pick<HostStats, "instanceId" | "webSockets" | "work">): HostStats {
  store.flushCounters();
  return {
    host: store.getMeta<string>("name"),
    instanceId: live.instanceId,
    constructions: store.getMeta<number>("constructions") ?? 0,
    wakes: store.getMeta<number>("wakes") ?? 0,
    alarms: store.getMeta<number>("alarms") ?? 0,
    sessions: store.sessionCount(),
    sockets: store.socketCount(),
    webSockets: live.webSockets,
    volatileDropped: store.getMeta<number>("volatile_dropped") ?? 0,
    closedForLimits: Object.fromEntries(
      (Object.keys(LIMIT_MESSAGES) as LimitName[])
        .map((limit) => [limit, store.getMeta<number>(`closed_for:${limit}`) ?? 0])
        .filter(([, count]) => count !== 0),
    ),
    work: live.work,
  };
}
