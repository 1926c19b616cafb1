/**
 * What one Durable Object costs to start, edgeio's against the floor's (issue 11): every bench
 * round's connects meet cold objects, and a hibernated host starts again on its next wake. Starts
 * the engine systems, then in interleaved rounds runs `--cycles` restarts of each object (abort
 * the instance, then one trivial RPC: bench/workers/restarts.ts) and as many RPCs to the live
 * instance, and takes the difference of the runtime's CPU (per thread, from schedstat: ns, not
 * clock ticks) per start. Objects: an edgeio host (pool member `local:0`), edgeio's namespace
 * directory for "/" (a RoomDO), and the floor's one object. Not part of `npm run bench` or `npm test`.
 *
 *   node bench/cold-start.ts [--cycles 100] [--rounds 6]
 */
import { parseArgs } from "node:util";
import { threadCpuMs } from "../test/helpers/proc.ts";
import { median } from "./lib/stats.ts";
import { startEngineSystem } from "./systems/engine.ts";
import type { RunningSystem } from "./systems/types.ts";

const { values } = parseArgs({
  options: { cycles: { type: "string", default: "100" }, rounds: { type: "string", default: "6" } },
});
const cycles = Number(values.cycles);

interface Target {
  label: string;
  system: RunningSystem;
  binding: string;
  name: string;
}

/** Runtime CPU ms per cycle of one run of the restart route. */
async function run(target: Target, abort: boolean): Promise<number> {
  const base = new URL(target.system.wsUrls[0]);
  const url = `http://${base.host}/__bench/restart?binding=${target.binding}&name=${encodeURIComponent(target.name)}&n=${cycles}&abort=${abort ? 1 : 0}`;
  const before = threadCpuMs(target.system.cpuPids());
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${target.label}: ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
  return (threadCpuMs(target.system.cpuPids()) - before) / cycles;
}

const edgeio = await startEngineSystem("edgeio-engine", "worktree");
const floor = await startEngineSystem("floor", "worktree").catch(async (error: unknown) => {
  await edgeio.stop();
  throw error;
});
try {
  const targets: Target[] = [
    { label: "edgeio host", system: edgeio, binding: "CONNECTION_HOST", name: "local:0" },
    { label: "edgeio namespace directory", system: edgeio, binding: "ROOM", name: JSON.stringify(["/", null]) },
    { label: "floor object", system: floor, binding: "FLOOR", name: "room" },
  ];
  for (const target of targets) await run(target, true); // warm-up: code compiled, storage created
  const starts = new Map(targets.map((target) => [target.label, [] as number[]]));
  for (let round = 0; round < Number(values.rounds); round++) {
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(i + round) % targets.length];
      const live = await run(target, false);
      const restarted = await run(target, true);
      starts.get(target.label)!.push(restarted - live);
    }
  }
  const floorStart = median(starts.get("floor object")!);
  for (const [label, ms] of starts) {
    const m = median(ms);
    console.log(
      `${label}: ${m.toFixed(2)} ms CPU per start (rounds ${ms.map((v) => v.toFixed(2)).join(", ")}), ${(m / floorStart).toFixed(2)}× the floor's`,
    );
  }
} finally {
  await edgeio.stop();
  await floor.stop();
}
