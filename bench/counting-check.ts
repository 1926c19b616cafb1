/**
 * Proves the work counters (bench/workers/counters.ts) count exactly, on the one system whose
 * work is known in advance: the floor. A WebSocket connect is one Worker request, one stub
 * fetch of the room object and one WebSocket message (the client's CONNECT); a broadcast is
 * one WebSocket message and nothing else. Applied to every run's floor figures, and by
 * `npm run bench -- --self-check` on a small floor run of its own.
 */
import type { BenchOptions } from "./lib/options.ts";
import type { LoadPool } from "./load/pool.ts";
import { EmptyResultSchema } from "./load/protocol.ts";
import type { BenchResults, SystemResult } from "./report.ts";
import type { BroadcastFigures, ConnectFigures } from "./scenario-figures.ts";
import { broadcastScenario, connectScenario } from "./scenarios.ts";
import { warmUp } from "./warm-up.ts";
import { startEngineSystem } from "./systems/engine.ts";

export interface CountingCheck {
  passed: boolean;
  checks: string[];
}

export function checkFloorCounts(connect: ConnectFigures | undefined, bursts: BroadcastFigures[]): CountingCheck {
  const checks: Array<[string, boolean]> = [];
  const expect = (what: string, actual: number | undefined, expected: number) =>
    checks.push([`${what}: ${actual ?? "n/a"} == ${expected}`, actual === expected]);
  if (connect?.work) {
    expect("connect: Worker requests", connect.work.workerRequests, connect.ok);
    expect("connect: DO fetches", connect.work.doFetches, connect.ok);
    expect("connect: WebSocket messages (CONNECT)", connect.work.webSocketMessages, connect.ok);
    expect("connect: RPC calls", connect.work.doRpcs, 0);
  }
  for (const b of bursts) {
    if (!b.work) continue;
    expect(`broadcast to ${b.size}: WebSocket messages`, b.work.webSocketMessages, b.messages);
    expect(`broadcast to ${b.size}: Worker requests`, b.work.workerRequests, 0);
    expect(`broadcast to ${b.size}: SQLite rows written`, b.work.rowsWritten, 0);
  }
  if (checks.length === 0) return { passed: false, checks: ["no counted floor figures"] };
  return { passed: checks.every(([, ok]) => ok), checks: checks.map(([what, ok]) => `${ok ? "PASS" : "FAIL"} ${what}`) };
}

export const checkFloorResult = (floor: SystemResult): CountingCheck =>
  checkFloorCounts(
    floor.connect,
    floor.broadcast.filter((b) => b.mode === "burst"),
  );

/** The honesty line of the report: the floor's figures of this run, checked. */
export function countingLines(results: BenchResults): string[] {
  const floor = results.systems.find((s) => s.id === "floor");
  if (!floor) return [];
  const check = checkFloorResult(floor);
  return [
    `- ${check.passed ? "✓" : "⚠"} Work counters: the floor's known work is counted exactly ` +
      `${check.passed ? "" : "**not** (do not trust the work figures) "}(${check.checks.join("; ")}).`,
  ];
}

/** A small floor run of its own (about 30 s, most of it starting wrangler dev). */
export async function countingSelfCheck(pool: LoadPool, options: BenchOptions): Promise<CountingCheck> {
  const opts: BenchOptions = { ...options, clients: 10, messages: 20, stallMs: 2000 };
  const system = await startEngineSystem("floor", options.edgeioSource, options.engineBuild);
  try {
    await warmUp(system);
    const connect = await connectScenario(system, pool, opts);
    const burst = await broadcastScenario(system, pool, opts, 10, "burst");
    return checkFloorCounts(connect, [burst]);
  } finally {
    await pool.each(() => ({ op: "closeAll" }), EmptyResultSchema).catch(() => undefined);
    await system.stop();
  }
}
