/**
 * Leases, host side. A host renews its lease on every room and namespace directory it has
 * sockets in, once per lease period, from the heartbeat alarm it already runs (so renewing
 * never wakes a hibernated host, and rooms never call hosts to ask). Each renewal is one call
 * per (host, room): O(hosts) per room per period, whatever the room's size.
 *
 * `deadSockets` is the fallback UserDO still uses: it asks hosts which listed sockets are gone.
 */
import { type EdgeioBindings, hostStub } from "../bindings";
import { withTimeout } from "./apply";
import { DEFAULT_HOST_TIMEOUT_MS } from "./types";

/** Renewals in flight at once from one host (bounded: an alarm's subrequests are not free). */
const RENEWALS_IN_FLIGHT = 32;

/** When the host last renewed, as its store keeps it (survives eviction; one write per period). */
export interface LeaseClock {
  lastRenewal(): number | null;
  setLastRenewal(at: number): void;
}

export class LeaseRenewal<Report> {
  constructor(
    private readonly leaseMs: number,
    private readonly clock: LeaseClock,
  ) {}

  /** Whether a renewal is due at `now` (one lease period after the last). */
  due(now: number): boolean {
    const last = this.clock.lastRenewal();
    return last === null || now - last >= this.leaseMs;
  }

  /** Renews every report (bounded concurrency, each call under the host timeout); says how many failed. */
  async run(
    now: number,
    reports: Report[],
    renew: (report: Report) => Promise<void>,
    timeoutMs = DEFAULT_HOST_TIMEOUT_MS,
  ): Promise<number> {
    this.clock.setLastRenewal(now);
    let failed = 0;
    for (let i = 0; i < reports.length; i += RENEWALS_IN_FLIGHT) {
      const outcomes = await Promise.all(
        reports.slice(i, i + RENEWALS_IN_FLIGHT).map((report) =>
          withTimeout(
            Promise.resolve().then(() => renew(report)),
            timeoutMs,
          ),
        ),
      );
      for (const outcome of outcomes) {
        if (outcome.ok) continue;
        failed += 1;
        console.error(`edgeio: lease renewal failed: ${outcome.error}`);
      }
    }
    return failed;
  }
}

const CHUNK = 1_000;

export interface HeldSocket {
  socket_id: string;
  host: string;
}

/** The socket ids of `rows` whose host says they are gone (UserDO's fallback lease check). */
export async function deadSockets(env: EdgeioBindings, rows: HeldSocket[], timeoutMs = DEFAULT_HOST_TIMEOUT_MS): Promise<string[]> {
  const dead: string[] = [];
  await Promise.all(
    [...groupByHost(rows)].map(async ([host, ids]) => {
      for (let i = 0; i < ids.length; i += CHUNK) {
        const chunk = ids.slice(i, i + CHUNK);
        const asked = Promise.resolve().then(() => hostStub(env, host).aliveSockets(chunk));
        const answer = await withTimeout(asked, timeoutMs);
        if (!answer.ok) {
          console.error(`edgeio: lease check on ${host} failed: ${answer.error}`);
          continue;
        }
        const alive = new Set(answer.value);
        for (const id of chunk) if (!alive.has(id)) dead.push(id);
      }
    }),
  );
  return dead;
}

function groupByHost(rows: HeldSocket[]): Map<string, string[]> {
  const byHost = new Map<string, string[]>();
  for (const row of rows) {
    const list = byHost.get(row.host) ?? [];
    list.push(row.socket_id);
    byHost.set(row.host, list);
  }
  return byHost;
}
