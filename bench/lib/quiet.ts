/**
 * When the idle window may start. After a connect burst edgeio's hosts send a load report to
 * the stats aggregator (with presence lease renewals) up to STATS_REPORT_MS later, or, when a
 * report was already pending from an earlier change, at the host's next alarm (up to a ping
 * interval later). That is the connect's after-effect, not the steady state of idle
 * connections. So the window starts once the runtime has run no Durable Object or Worker
 * request for QUIET_MS (counted by bench/workers/counters.ts), at least SETTLE_MS after the
 * connects and at most QUIET_CAP_MS; systems without counters wait SETTLE_MS.
 */
import type { WorkCounters } from "./work.ts";
import { PRODUCTION_DEFAULTS } from "../systems/edgeio.ts";
import type { RunningSystem } from "../systems/types.ts";
import { nowMs, sleep } from "./stats.ts";

/** One stats report interval + 1 s, for every system alike. */
export const SETTLE_MS = PRODUCTION_DEFAULTS.STATS_REPORT_MS + 1000;
export const QUIET_MS = SETTLE_MS;
/** The 25 s ping interval plus the 5 s report interval and some slack. */
export const QUIET_CAP_MS = 45_000;

const requests = (c: WorkCounters) =>
  c.workerRequests + [c.stubCalls, c.entryPoints].reduce((n, table) => n + Object.values(table).reduce((a, b) => a + b, 0), 0);

export interface Settle {
  /** Seconds from the end of the connects to the start of the idle window. */
  waitedS: number;
  /** Whether QUIET_MS without a request was seen (false: the cap was reached, or the system has no counters). */
  quiet: boolean;
}

export async function settleBeforeIdle(system: RunningSystem): Promise<Settle> {
  const start = nowMs();
  const waited = (quiet: boolean) => ({ waitedS: (nowMs() - start) / 1000, quiet });
  if (!system.counters) {
    await sleep(SETTLE_MS);
    return waited(false);
  }
  let last = requests(await system.counters());
  let lastChange = start;
  while (nowMs() - start < QUIET_CAP_MS) {
    if (nowMs() - start >= SETTLE_MS && nowMs() - lastChange >= QUIET_MS) return waited(true);
    await sleep(500);
    const now = requests(await system.counters());
    if (now !== last) {
      last = now;
      lastChange = nowMs();
    }
  }
  return waited(false);
}
