/**
 * `npm run bench -- --self-check`: proves the harness notices lost and duplicated deliveries.
 * It runs the broadcast scenario against a Socket.IO server that drops every broadcast with
 * seq % 10 == 3 and sends seq % 10 == 7 twice, and checks that exactly those are reported,
 * both in the figures and as a warning in the Markdown table cell.
 */
import type { BenchOptions } from "./lib/options.ts";
import type { LoadPool } from "./load/pool.ts";
import { EmptyResultSchema } from "./load/protocol.ts";
import { lossCell } from "./report.ts";
import { broadcastScenario, connectScenario } from "./scenarios.ts";
import { startSocketioSingle } from "./systems/socketio-single.ts";

export interface SelfCheckResult {
  passed: boolean;
  checks: string[];
}

export async function selfCheck(pool: LoadPool, options: BenchOptions): Promise<SelfCheckResult> {
  const room = 10;
  const messages = 20;
  // burstDeliveries = room × messages: the burst sends `messages` too (burstMessages).
  const opts: BenchOptions = { ...options, clients: room, messages, burstDeliveries: room * messages, rate: 50, stallMs: 2000 };
  const affected = Array.from({ length: messages }, (_, seq) => seq).filter((seq) => seq % 10 === 3).length;
  const doubled = Array.from({ length: messages }, (_, seq) => seq).filter((seq) => seq % 10 === 7).length;
  const system = await startSocketioSingle(true);
  let ok = true;
  const lines: string[] = [];
  try {
    const connect = await connectScenario(system, pool, opts);
    if (connect.ok !== room) throw new Error(`self-check: only ${connect.ok} of ${room} clients connected`);
    for (const mode of ["paced", "burst"] as const) {
      const b = await broadcastScenario(system, pool, opts, room, mode);
      const cell = lossCell([b]) ?? "";
      const checks: Array<[string, boolean]> = [
        [`lost ${b.lost} == ${room * affected}`, b.lost === room * affected],
        [`duplicates ${b.duplicates} == ${room * doubled}`, b.duplicates === room * doubled],
        [`stray ${b.stray} == 0`, b.stray === 0],
        [`delivered ${b.delivered} == ${room * (messages - affected + doubled)}`, b.delivered === room * (messages - affected + doubled)],
        [`table cell warns: "${cell}"`, cell.startsWith("⚠")],
      ];
      for (const [what, passed] of checks) {
        lines.push(`${passed ? "PASS" : "FAIL"} ${mode}: ${what}`);
        ok &&= passed;
      }
    }
  } finally {
    await pool.each(() => ({ op: "closeAll" }), EmptyResultSchema).catch(() => undefined);
    await system.stop();
  }
  return { passed: ok, checks: lines };
}
