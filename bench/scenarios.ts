/**
 * The scenarios, each run against one started system with the shared load-generator pool (what
 * each reports: scenario-figures.ts). Every scenario records the server's and the load
 * generators' CPU use alongside its figures so that a saturated load generator is visible in
 * the report.
 */
import { z } from "zod";
import { burstMessages, type BenchOptions } from "./lib/options.ts";
import { sumCpu, sumRss } from "../test/helpers/proc.ts";
import { nowMs, sleep, summarize } from "./lib/stats.ts";
import { type MemoryReading, settledMemory } from "./lib/settled-memory.ts";
import { settleBeforeIdle } from "./lib/quiet.ts";
import { PRODUCTION_DEFAULTS } from "./systems/edgeio.ts";
import { workBetween } from "./lib/work.ts";
import type { LoadPool } from "./load/pool.ts";
import {
  CollectResultSchema,
  ConnectResultSchema,
  JoinResultSchema,
  PollingOpenResultSchema,
  PollingResultSchema,
  ProgressResultSchema,
  SendResultSchema,
  EmptyResultSchema,
  type Failures,
} from "./load/protocol.ts";
import type { RunningSystem } from "./systems/types.ts";
import type { BroadcastFigures, ConnectFigures, CpuFigures, DisconnectFigures, IdleFigures, PollingFigures } from "./scenario-figures.ts";

const ExpectResultSchema = z.object({ members: z.number().int() });

/** Measures CPU around `body`: server processes from /proc, load generators via process.cpuUsage(). */
async function measured<T>(system: RunningSystem, pool: LoadPool, body: () => Promise<T>): Promise<T & CpuFigures> {
  // The counters are figures, not the scenario: a runtime too busy to answer loses them only.
  const countersBefore = await system.counters?.().catch(() => undefined);
  const serverBefore = sumCpu(system.cpuPids());
  const loadBefore = await pool.cpu();
  const start = nowMs();
  const result = await body();
  if (system.restarted?.()) throw new Error("a server process restarted during the scenario; its figures are discarded");
  const wallS = (nowMs() - start) / 1000;
  const serverCpuS = sumCpu(system.cpuPids()) - serverBefore;
  const loadAfter = await pool.cpu();
  const countersAfter = await system.counters?.().catch(() => undefined);
  const loadCpuS = loadAfter.map((after, i) => after - loadBefore[i]);
  return {
    ...result,
    wallS,
    serverCpuS,
    loadCpuS,
    loadCpuMaxPct: wallS > 0 ? (Math.max(...loadCpuS) / wallS) * 100 : 0,
    ...(countersBefore && countersAfter ? { work: workBetween(countersBefore, countersAfter, serverCpuS * 1000) } : {}),
  };
}

function mergeFailures(all: Failures[]): Failures {
  const merged: Failures = { sessionUnknown: 0, other: {} };
  for (const f of all) {
    merged.sessionUnknown += f.sessionUnknown;
    for (const [key, n] of Object.entries(f.other)) merged.other[key] = (merged.other[key] ?? 0) + n;
  }
  return merged;
}

export async function connectScenario(system: RunningSystem, pool: LoadPool, options: BenchOptions): Promise<ConnectFigures> {
  const groups = pool.split(0, options.clients);
  const perWorker = Math.max(1, Math.ceil(options.connectConcurrency / pool.workers.length));
  return measured(system, pool, async () => {
    const results = await pool.each(
      (_, i) => ({
        op: "connect",
        urls: system.wsUrls,
        indices: groups[i],
        stride: pool.workers.length,
        transports: ["websocket"],
        concurrency: perWorker,
        timeoutMs: 20_000,
      }),
      ConnectResultSchema,
    );
    const ok = results.reduce((n, r) => n + r.ok, 0);
    const timeToAllS = (Math.max(...results.map((r) => r.finishedAt)) - Math.min(...results.map((r) => r.startedAt))) / 1000;
    return {
      transport: "websocket" as const,
      attempted: options.clients,
      ok,
      failed: options.clients - ok,
      failures: mergeFailures(results.map((r) => r.failures)),
      timeToAllS,
      connectionsPerS: ok / timeToAllS,
      connectMs: summarize(results.flatMap((r) => r.durationsMs)),
    };
  });
}

/** Resident memory of each of the system's connection-holding processes. */
export function rssByProcess(system: RunningSystem): Record<string, number> {
  return Object.fromEntries(Object.entries(system.memoryProcesses()).map(([name, pid]) => [name, sumRss([pid])]));
}

const delta = (before: number | undefined, after: number | undefined) =>
  before === undefined || after === undefined ? null : after - before;

const total = (byProcess: Record<string, number>) => Object.values(byProcess).reduce((a, b) => a + b, 0);

/**
 * The steady-state idle window of a system with a heartbeat (edgeio, production defaults): 25 s
 * ping intervals, and the lease renewals and load-report keepalives (PRESENCE_LEASE_MS) that
 * ride the first heartbeat alarm at least one lease period after the last. So one renewal per
 * host falls in every ceil(lease / ping) ping intervals: 3 × 25 s = 75 s holds each host's pings,
 * pong checks and one renewal, whatever the window's phase.
 */
export const PING_INTERVAL_MS = 25_000;
export const STEADY_IDLE_MS = Math.ceil(PRODUCTION_DEFAULTS.PRESENCE_LEASE_MS / PING_INTERVAL_MS) * PING_INTERVAL_MS;
/** A start-up polling probe lives its connect deadline (45 s) and up to a ping interval and a half more. */
const PROBES_GONE_MAX_MS = 90_000;

/**
 * Holds the connect scenario's connections open for `idleSeconds` and reads memory and DO
 * wake-ups; for a system with a heartbeat, then counts the work over STEADY_IDLE_MS more (`steady`).
 */
export async function idleScenario(
  system: RunningSystem,
  pool: LoadPool,
  options: BenchOptions,
  connections: number,
  baseline: Record<string, number>,
  settledBaseline: Record<string, MemoryReading> | null,
): Promise<IdleFigures> {
  const settle = await settleBeforeIdle(system); // the connects' after-effects are not the steady state
  const rssAfterConnect = rssByProcess(system);
  const wakesBefore = await system.wakeStats?.();
  const idle = await measured(system, pool, async () => {
    await sleep(options.idleSeconds * 1000);
    const rssAfterIdle = rssByProcess(system);
    const wakesAfter = await system.wakeStats?.();
    const connectionMinutes = (connections * options.idleSeconds) / 60;
    const auxiliaryRssBytes = Object.fromEntries(Object.entries(system.auxiliary()).map(([name, pid]) => [name, sumRss([pid])]));
    const figures: Omit<IdleFigures, keyof CpuFigures> = {
      connections,
      seconds: options.idleSeconds,
      settle,
      baselineRssBytes: total(baseline),
      rssAfterConnectBytes: total(rssAfterConnect),
      rssAfterIdleBytes: total(rssAfterIdle),
      bytesPerConnection: connections > 0 ? (total(rssAfterIdle) - total(baseline)) / connections : 0,
      rssByProcess: Object.fromEntries(
        Object.keys(rssAfterIdle).map((name) => [
          name,
          { baseline: baseline[name] ?? 0, afterConnect: rssAfterConnect[name] ?? 0, afterIdle: rssAfterIdle[name] },
        ]),
      ),
      auxiliaryRssBytes,
      settled: null,
    };
    if (wakesBefore && wakesAfter) {
      const wakes = wakesAfter.wakes - wakesBefore.wakes;
      const alarms = wakesAfter.alarms - wakesBefore.alarms;
      figures.wakes = {
        wakes,
        alarms,
        wakesPerConnectionMinute: connectionMinutes > 0 ? wakes / connectionMinutes : 0,
        alarmsPerConnectionMinute: connectionMinutes > 0 ? alarms / connectionMinutes : 0,
        webSockets: wakesAfter.webSockets,
        hostReported: {
          rowsRead: delta(wakesBefore.rowsRead, wakesAfter.rowsRead),
          rowsWritten: delta(wakesBefore.rowsWritten, wakesAfter.rowsWritten),
          invocations: delta(wakesBefore.invocations, wakesAfter.invocations),
        },
      };
    }
    return figures;
  });
  if (system.counters) {
    // Every engine system alike (the floor pings from one alarm per 25 s, which the short idle
    // window may miss). edgeio's not before the polling handshakes of its start (its readiness
    // probe, coloOf) are gone: never connected, each is dropped a ping interval after its 45 s
    // connect deadline (a delete of its rows, in one of the window's alarms otherwise).
    const probesGone = nowMs() + PROBES_GONE_MAX_MS;
    while (system.wakeStats && nowMs() < probesGone) {
      const hosts = await system.wakeStats();
      if (hosts.sessions <= hosts.webSockets) break;
      await sleep(2000);
    }
    // Started after the window above, whose last read (the hosts' stats) wakes every host.
    const steadyStart = { at: nowMs(), cpuS: sumCpu(system.cpuPids()), counters: await system.counters?.().catch(() => undefined) };
    await sleep(STEADY_IDLE_MS);
    const seconds = (nowMs() - steadyStart.at) / 1000;
    const serverCpuS = sumCpu(system.cpuPids()) - steadyStart.cpuS;
    const counters = await system.counters?.().catch(() => undefined);
    const work = steadyStart.counters && counters ? workBetween(steadyStart.counters, counters, serverCpuS * 1000) : undefined;
    idle.steady = { seconds, serverCpuS, work };
  }
  // After the idle period's CPU and work are read: the forced GC is the bench's, not the system's.
  const settledAfter = settledBaseline ? await settledMemory(system) : null;
  if (settledBaseline && settledAfter) {
    idle.settled = Object.fromEntries(
      Object.keys(settledAfter).map((name) => [name, { baseline: settledBaseline[name], afterIdle: settledAfter[name] }]),
    );
  }
  return idle;
}

export async function broadcastScenario(
  system: RunningSystem,
  pool: LoadPool,
  options: BenchOptions,
  size: number,
  mode: "paced" | "burst",
): Promise<BroadcastFigures> {
  const room = `room-${size}`;
  const run = `${system.id}-${size}-${mode}-${Date.now()}`;
  const messages = mode === "burst" ? burstMessages(options, size) : options.messages;
  const groups = pool.split(0, size);
  const joins = await pool.each((_, i) => (groups[i].length ? { op: "join", room, indices: groups[i] } : null), JoinResultSchema);
  const members = joins.reduce((n, r) => n + r.ok, 0);
  await pool.each((_, i) => ({ op: "expect", run, messages, indices: groups[i] }), ExpectResultSchema);
  await sleep(500); // let the join burst settle before timing
  const expected = members * messages;
  // Paced: a steady rate, for latency. Burst: every message back to back, for throughput.
  const intervalMs = mode === "paced" ? 1000 / options.rate : 0;
  return measured(system, pool, async () => {
    const sender = pool.workerOf(0);
    const sending = sender.call({ op: "send", run, room, index: 0, messages, intervalMs }, SendResultSchema);
    const sent = await sending;
    // Drain until everything arrived, or nothing new arrived for stallMs (then the rest counts
    // as lost), with a hard cap so that a trickle cannot hold the run forever.
    let lastTotal = -1;
    let lastChange = nowMs();
    while (nowMs() - sent.lastAt < 180_000) {
      const progress = await pool.each(() => ({ op: "progress", run }), ProgressResultSchema);
      const total = progress.reduce((n, p) => n + p.received, 0);
      if (total >= expected) break;
      if (total !== lastTotal) {
        lastTotal = total;
        lastChange = nowMs();
      } else if (nowMs() - lastChange > options.stallMs) break;
      await sleep(100);
    }
    const collected = await pool.each(() => ({ op: "collect", run }), CollectResultSchema);
    const lastAt = Math.max(...collected.map((c) => c.lastAt ?? 0));
    const delivered = collected.reduce((n, c) => n + c.delivered, 0);
    return {
      size,
      mode,
      members,
      messages,
      ratePerS: mode === "paced" ? options.rate : null,
      expected,
      delivered,
      unique: collected.reduce((n, c) => n + c.unique, 0),
      lost: collected.reduce((n, c) => n + c.lost, 0),
      duplicates: collected.reduce((n, c) => n + c.duplicates, 0),
      stray: collected.reduce((n, c) => n + c.stray, 0),
      latencyMs: summarize(collected.flatMap((c) => c.latenciesMs)),
      deliveriesPerS: lastAt > sent.firstAt ? delivered / ((lastAt - sent.firstAt) / 1000) : 0,
    };
  });
}

/** The server's CPU (clock ticks of 10 ms) unchanged this long: the disconnects are handled. */
const DISCONNECT_STILL_MS = 300;
const DISCONNECT_CAP_MS = 10_000;

/**
 * Every client disconnects at once (socket.io-client's `disconnect()`: its namespace's "41",
 * then the transport's close) and the server's CPU is counted until it stands still, so that
 * a system which handles closes after the clients have gone is charged for them, and the next
 * scenario does not inherit that work.
 */
export async function disconnectScenario(system: RunningSystem, pool: LoadPool, connected: number): Promise<DisconnectFigures> {
  return measured(system, pool, async () => {
    await pool.each(() => ({ op: "closeAll" }), EmptyResultSchema);
    const start = nowMs();
    let last = sumCpu(system.cpuPids());
    let stillSince = start;
    while (nowMs() - start < DISCONNECT_CAP_MS) {
      await sleep(50);
      const now = sumCpu(system.cpuPids());
      if (now !== last) {
        last = now;
        stillSince = nowMs();
      } else if (nowMs() - stillSince >= DISCONNECT_STILL_MS) break;
    }
    return { closed: connected, settleS: (nowMs() - start) / 1000 };
  });
}

/** Connects the polling clients (measured on its own), then runs the round trips (the figures). */
export async function pollingScenario(system: RunningSystem, pool: LoadPool, options: BenchOptions): Promise<PollingFigures> {
  const groups = pool.split(0, options.pollingClients);
  const open = await measured(system, pool, () =>
    pool
      .each(
        (_, i) =>
          groups[i].length
            ? { op: "pollingOpen", urls: system.pollingUrls, indices: groups[i], stride: pool.workers.length, timeoutMs: 10_000 }
            : null,
        PollingOpenResultSchema,
      )
      .then((results) => ({ results })),
  );
  await sleep(500); // let each client's first held GET settle
  const rounds = await measured(system, pool, async () => {
    const results = await pool.each(
      (_, i) => (groups[i].length ? { op: "pollingRounds", rounds: options.pollingRounds, timeoutMs: 10_000 } : null),
      PollingResultSchema,
    );
    return { results };
  });
  await pool.each(() => ({ op: "closeAll" }), EmptyResultSchema);
  const failures = mergeFailures([...open.results.map((r) => r.failures), ...rounds.results.map((r) => r.failures)]);
  const { results: _r, ...cpu } = rounds;
  return {
    ...cpu,
    attempted: options.pollingClients,
    connected: open.results.reduce((n, r) => n + r.connected, 0),
    completed: rounds.results.reduce((n, r) => n + r.completed, 0),
    rounds: options.pollingRounds,
    sessionUnknown: failures.sessionUnknown,
    otherFailures: failures.other,
    ackTimeouts: rounds.results.reduce((n, r) => n + r.ackTimeouts, 0),
    disconnects: rounds.results.reduce((n, r) => n + r.disconnects, 0),
    rttMs: summarize(rounds.results.flatMap((r) => r.rttsMs)),
    connectPhase: { wallS: open.wallS, serverCpuS: open.serverCpuS, work: open.work },
  };
}
