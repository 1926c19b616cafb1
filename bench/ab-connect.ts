/**
 * A/B of a WebSocket connect's runtime CPU (issue 11): the last commit ("head"), the files as
 * they are ("worktree") and, with `--floor`, the floor run side by side, each in its own
 * runtime (engine setup, the bench's room app), and their batches of connects alternate (the
 * order rotates each batch), so that the load of a shared machine weighs on all alike. A batch
 * opens `--clients` socket.io-client WebSockets at once and counts the runtime's CPU while they
 * connect; they then disconnect and the runtime is left `--settle` ms before the next batch.
 * Prints each batch and the median of the paired ratios.
 *
 *   node bench/ab-connect.ts [--clients 300] [--batches 8] [--floor] [--settle 1500]
 *
 * As with ab-polling.ts: single batches vary by ±30 % on a loaded 2-core machine; a difference
 * under ~10 % needs the swapped run too (commit the candidate, put the old files in the worktree).
 */
import { parseArgs } from "node:util";
import { sumCpu } from "../test/helpers/proc.ts";
import { median } from "./lib/stats.ts";
import { connectWebSocket } from "./lib/cpu-profile.ts";
import { startEngineSystem } from "./systems/engine.ts";
import type { RunningSystem } from "./systems/types.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "300" },
    batches: { type: "string", default: "8" },
    floor: { type: "boolean", default: false },
    settle: { type: "string", default: "1500" },
  },
});

type Name = "head" | "worktree" | "floor";

/** Runtime CPU ms per connect over one batch (the disconnects are left out). */
async function batch(system: RunningSystem, clients: number): Promise<number> {
  const before = sumCpu(system.cpuPids());
  const sockets = await Promise.all(Array.from({ length: clients }, () => connectWebSocket(system.wsUrls[0])));
  const cpu = sumCpu(system.cpuPids()) - before;
  for (const socket of sockets) socket.disconnect();
  await new Promise((resolve) => setTimeout(resolve, Number(values.settle)));
  return (cpu * 1000) / clients;
}

const mean = (list: number[]) => list.reduce((sum, value) => sum + value, 0) / list.length;

const names: Name[] = values.floor ? ["head", "worktree", "floor"] : ["head", "worktree"];
const systems = new Map<Name, RunningSystem>();
try {
  systems.set("head", await startEngineSystem("edgeio-engine", "head"));
  systems.set("worktree", await startEngineSystem("edgeio-engine", "worktree"));
  if (values.floor) systems.set("floor", await startEngineSystem("floor", "worktree"));
  const clients = Number(values.clients);
  // Warm up: every host of the pool instantiated, code compiled.
  for (const system of systems.values()) await batch(system, 24);
  const figures = new Map<Name, number[]>(names.map((name) => [name, []]));
  for (let index = 0; index < Number(values.batches); index++) {
    const order = names.map((_, i) => names[(i + index) % names.length]);
    for (const name of order) figures.get(name)?.push(await batch(systems.get(name) as RunningSystem, clients));
    console.log(`batch ${index}: ${names.map((name) => `${name} ${figures.get(name)?.[index].toFixed(3)} ms`).join(", ")}`);
  }
  const of = (name: Name) => figures.get(name) ?? [];
  const ratio = (a: Name, b: Name) => median(of(a).map((value, i) => value / of(b)[i])).toFixed(3);
  console.log(`median CPU per connect: ${names.map((name) => `${name} ${median(of(name)).toFixed(3)} ms`).join(", ")}`);
  console.log(`mean CPU per connect: ${names.map((name) => `${name} ${mean(of(name)).toFixed(3)} ms`).join(", ")}`);
  console.log(`median paired ratio worktree/head ${ratio("worktree", "head")}`);
  if (values.floor) console.log(`median paired ratio head/floor ${ratio("head", "floor")}, worktree/floor ${ratio("worktree", "floor")}`);
} finally {
  for (const system of systems.values()) await system.stop();
}
