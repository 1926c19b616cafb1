/**
 * How the scenarios are run against started systems. Every system gets one full round (every
 * scenario and room size). The engine setup (edgeio, the floor, PartyServer) is started
 * together and measured in interleaved rounds: each round runs the ratio scenarios (connect,
 * the ratio room paced and burst, polling) against each system in turn, the order rotating per
 * round, so that changing load on a shared machine hits every system alike; the report takes
 * the median per figure. The systems not being measured sit idle (no clients).
 */
import { burstMessages, ratioRoomOf, type BenchOptions, type StartableSystem } from "./lib/options.ts";
import { settledMemory, type MemoryReading } from "./lib/settled-memory.ts";
import { sleep } from "./lib/stats.ts";
import type { LoadPool } from "./load/pool.ts";
import { EmptyResultSchema } from "./load/protocol.ts";
import type { RoundFigures, SystemResult } from "./results.ts";
import { broadcastScenario, connectScenario, disconnectScenario, idleScenario, pollingScenario, rssByProcess } from "./scenarios.ts";
import type { RunningSystem } from "./systems/types.ts";
import { warmUp } from "./warm-up.ts";

export interface BenchContext {
  options: BenchOptions;
  pool: LoadPool;
  log(message: string): void;
  starters: Record<StartableSystem, (options: BenchOptions) => Promise<RunningSystem>>;
  /** Systems started and not yet stopped (Ctrl-C stops them). */
  running: Set<RunningSystem>;
}

interface Measured {
  system: RunningSystem;
  result: SystemResult;
  /** The column of the polling scenario (the two-process Socket.IO system has its own). */
  pollingResult: SystemResult;
  baseline: { rss: Record<string, number>; settled: Record<string, MemoryReading> | null };
}

async function attempt<T>(ctx: BenchContext, result: SystemResult, name: string, body: () => Promise<T>): Promise<T | undefined> {
  try {
    return await body();
  } catch (error) {
    const message = `${name}: ${error instanceof Error ? error.message : String(error)}`;
    ctx.log(`  ${result.label}: ${message}`);
    result.errors.push(message);
    return undefined;
  }
}

const errorResult = (id: string, error: unknown): SystemResult => ({
  id,
  label: id,
  broadcast: [],
  errors: [`start: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`],
});

/** Starts one system; null (its error recorded in `results`) when it does not start. */
async function start(ctx: BenchContext, id: StartableSystem, results: SystemResult[]): Promise<Measured | null> {
  ctx.log(`starting ${id}`);
  let system: RunningSystem;
  try {
    system = await ctx.starters[id](ctx.options);
  } catch (error) {
    // One system that does not start (e.g. wrangler dev on a very loaded machine) leaves the others' figures.
    results.push(errorResult(id, error));
    ctx.log(`  ${id}: ${results[results.length - 1].errors[0]}`);
    return null;
  }
  ctx.running.add(system);
  const result: SystemResult = { id: system.id, label: system.label, broadcast: [], errors: [] };
  results.push(result);
  // The two-process system's polling run goes through a proxy without sticky sessions: its own column.
  let pollingResult = result;
  if (system.pollingId) {
    pollingResult = { id: system.pollingId, label: system.pollingLabel ?? system.pollingId, broadcast: [], errors: [] };
    results.push(pollingResult);
  }
  return { system, result, pollingResult, baseline: { rss: {}, settled: null } };
}

async function prepare(ctx: BenchContext, m: Measured): Promise<void> {
  await attempt(ctx, m.result, "warm-up", () => warmUp(m.system));
  await sleep(1000);
  m.baseline = { rss: rssByProcess(m.system), settled: await settledMemory(m.system) };
}

/** One round against one system: the full round (round 1) or the ratio scenarios only. */
async function round(ctx: BenchContext, m: Measured, index: number, full: boolean): Promise<RoundFigures> {
  const { options, pool, log } = ctx;
  const { system, result } = m;
  const figures: RoundFigures = { round: index, broadcast: [] };
  log(`  connect ${options.clients}`);
  figures.connect = await attempt(ctx, result, "connect", () => connectScenario(system, pool, options));
  const connected = figures.connect?.ok ?? 0;
  if (full) {
    log(`  idle ${options.idleSeconds}s`);
    result.idle = await attempt(ctx, result, "idle", () =>
      idleScenario(system, pool, options, connected, m.baseline.rss, m.baseline.settled),
    );
  }
  for (const size of full ? options.rooms : [ratioRoomOf(options.rooms)]) {
    if (size > connected) {
      result.errors.push(`round ${index}, broadcast ${size}: only ${connected} clients connected`);
      continue;
    }
    for (const mode of ["paced", "burst"] as const) {
      const messages = mode === "burst" ? burstMessages(options, size) : options.messages;
      log(`  broadcast to ${size} (${mode}, ${messages} messages)`);
      const run = () => broadcastScenario(system, pool, options, size, mode);
      const b = await attempt(ctx, result, `round ${index}, broadcast ${size} ${mode}`, run);
      if (b) figures.broadcast.push(b);
    }
  }
  log(`  disconnect ${connected}`);
  figures.disconnect = await attempt(ctx, result, `round ${index}, disconnect`, () => disconnectScenario(system, pool, connected));
  if (!figures.disconnect) await pool.each(() => ({ op: "closeAll" }), EmptyResultSchema).catch(() => undefined);
  await sleep(1000);
  if (system.pollingUrls.length > 0) {
    log(`  polling ${options.pollingClients} × ${options.pollingRounds}`);
    figures.polling = await attempt(ctx, m.pollingResult, `round ${index}, polling`, () => pollingScenario(system, pool, options));
  }
  return figures;
}

async function finish(ctx: BenchContext, m: Measured): Promise<void> {
  try {
    const extra = await attempt(ctx, m.result, "extra", async () => (await m.system.extra?.()) ?? {});
    if (extra) m.result.extra = extra;
  } finally {
    await ctx.pool.each(() => ({ op: "closeAll" }), EmptyResultSchema).catch(() => undefined);
    await m.system.stop();
    ctx.running.delete(m.system);
    ctx.log(`stopped ${m.system.id}`);
  }
}

/** Round 1's figures are the ones every table shows; `rounds` keeps each round for the medians. */
function keepRound(m: Measured, figures: RoundFigures, interleaved: boolean): void {
  if (figures.round === 1) {
    m.result.connect = figures.connect;
    m.result.broadcast = figures.broadcast;
    m.result.disconnect = figures.disconnect;
    m.pollingResult.polling = figures.polling;
  }
  if (interleaved) m.result.rounds = [...(m.result.rounds ?? []), figures];
}

/** One system alone: start, one full round, stop. */
export async function benchOne(ctx: BenchContext, id: StartableSystem): Promise<SystemResult[]> {
  const results: SystemResult[] = [];
  const m = await start(ctx, id, results);
  if (!m) return results;
  try {
    await prepare(ctx, m);
    keepRound(m, await round(ctx, m, 1, true), false);
  } finally {
    await finish(ctx, m);
  }
  return results;
}

/**
 * The engine systems together: all started (idle while not measured), warmed up, then
 * `options.rounds` rounds, round 1 full, each round visiting every system, the order rotated.
 */
export async function benchInterleaved(ctx: BenchContext, ids: StartableSystem[]): Promise<SystemResult[]> {
  const results: SystemResult[] = [];
  const measured: Measured[] = [];
  try {
    for (const id of ids) {
      const m = await start(ctx, id, results);
      if (m) measured.push(m);
    }
    for (const m of measured) await prepare(ctx, m);
    for (let r = 1; r <= ctx.options.rounds; r++) {
      for (let k = 0; k < measured.length; k++) {
        const m = measured[(k + r - 1) % measured.length];
        ctx.log(`round ${r}/${ctx.options.rounds}: ${m.system.id}`);
        keepRound(m, await round(ctx, m, r, r === 1), true);
      }
    }
  } finally {
    for (const m of measured) await finish(ctx, m).catch((error: unknown) => ctx.log(`stopping ${m.system.id}: ${String(error)}`));
  }
  return results;
}
