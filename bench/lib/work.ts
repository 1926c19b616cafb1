/**
 * The work Cloudflare bills, as counted inside workerd by bench/workers/counters.ts, and what it
 * costs at Cloudflare's published list prices (Workers Paid, beyond the included allotments;
 * sources in docs/benchmarks.md § Prices).
 */
import { z } from "zod";

export const WorkCountersSchema = z.object({
  workerRequests: z.number(),
  stubCalls: z.record(z.string(), z.number()),
  entryPoints: z.record(z.string(), z.number()),
  sqlStatements: z.number(),
  storageCalls: z.record(z.string(), z.number()).default({}),
  rowsRead: z.number(),
  rowsWritten: z.number(),
});
export type WorkCounters = z.infer<typeof WorkCountersSchema>;

/** The work done between two counter snapshots. */
export interface Work {
  workerRequests: number;
  /** Durable Object requests as the runtime counts them: fetch + RPC calls + alarms + WebSocket messages received. */
  doRequests: number;
  doFetches: number;
  doRpcs: number;
  alarms: number;
  webSocketMessages: number;
  sqlStatements: number;
  rowsRead: number;
  rowsWritten: number;
  /** Runtime (workerd) CPU over the same window, ms. */
  cpuMs: number;
  /** Every counter by binding/class and method, for the JSON. */
  detail: Record<string, number>;
}

const diff = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(after)
      .map(([key, n]) => [key, n - (before[key] ?? 0)] as const)
      .filter(([, n]) => n !== 0),
  );

const total = (table: Record<string, number>, keep: (key: string) => boolean) =>
  Object.entries(table).reduce((n, [key, v]) => (keep(key) ? n + v : n), 0);

export function workBetween(before: WorkCounters, after: WorkCounters, cpuMs: number): Work {
  const stub = diff(after.stubCalls, before.stubCalls);
  const storage = Object.fromEntries(Object.entries(diff(after.storageCalls, before.storageCalls)).map(([k, v]) => [`storage.${k}`, v]));
  const entry = diff(after.entryPoints, before.entryPoints);
  const doFetches = total(stub, (k) => k.endsWith(".fetch"));
  const doRpcs = total(stub, (k) => !k.endsWith(".fetch"));
  const alarms = total(entry, (k) => k.endsWith(".alarm"));
  const webSocketMessages = total(entry, (k) => k.endsWith(".webSocketMessage"));
  return {
    workerRequests: after.workerRequests - before.workerRequests,
    doRequests: doFetches + doRpcs + alarms + webSocketMessages,
    doFetches,
    doRpcs,
    alarms,
    webSocketMessages,
    sqlStatements: after.sqlStatements - before.sqlStatements,
    rowsRead: after.rowsRead - before.rowsRead,
    rowsWritten: after.rowsWritten - before.rowsWritten,
    cpuMs,
    detail: { ...stub, ...entry, ...storage },
  };
}

/** USD list prices per unit (Workers Paid plan, beyond the included monthly usage). */
export const PRICES = {
  workerRequest: 0.3 / 1e6,
  workerCpuMs: 0.02 / 1e6,
  doRequest: 0.15 / 1e6,
  /** Incoming WebSocket messages are billed 20 : 1 as Durable Object requests. */
  webSocketMessagesPerRequest: 20,
  rowRead: 0.001 / 1e6,
  rowWritten: 1 / 1e6,
} as const;

/**
 * Billed cost of `work` in USD: requests, SQLite rows and runtime CPU at the Workers CPU price.
 * Durable Object duration (active wall-clock time × 128 MB) is not included: it cannot be
 * measured locally, and it is zero for a hibernated object.
 */
export function costOf(work: Work): number {
  const doRequests = work.doFetches + work.doRpcs + work.alarms + work.webSocketMessages / PRICES.webSocketMessagesPerRequest;
  return (
    work.workerRequests * PRICES.workerRequest +
    doRequests * PRICES.doRequest +
    work.rowsRead * PRICES.rowRead +
    work.rowsWritten * PRICES.rowWritten +
    work.cpuMs * PRICES.workerCpuMs
  );
}

/** `work` divided by `n` operations (every count, CPU included). */
export function perOperation(work: Work, n: number): Work {
  const each = (v: number) => (n > 0 ? v / n : 0);
  return {
    workerRequests: each(work.workerRequests),
    doRequests: each(work.doRequests),
    doFetches: each(work.doFetches),
    doRpcs: each(work.doRpcs),
    alarms: each(work.alarms),
    webSocketMessages: each(work.webSocketMessages),
    sqlStatements: each(work.sqlStatements),
    rowsRead: each(work.rowsRead),
    rowsWritten: each(work.rowsWritten),
    cpuMs: each(work.cpuMs),
    detail: Object.fromEntries(Object.entries(work.detail).map(([k, v]) => [k, each(v)])),
  };
}
