/**
 * How much of "runtime memory per idle WebSocket" the sockets hold (issue 11, docs/benchmarks.md
 * "Eighth round"): for edgeio and the floor in turn (engine setup, the bench's room app), opens
 * `--clients` socket.io-client WebSockets, leaves them idle, then closes them all, and reads the
 * runtime's private memory (RssAnon) after a forced GC at each step, per connection over the
 * baseline taken before the connects. Memory that stays once every socket has closed is the
 * runtime's (allocator and heap capacity kept from the connect burst), not the sockets'. The
 * RSS is shown beside it: the difference is file-backed pages of the workerd executable (V8's
 * optimizing compiler, mapped in the first time a function gets hot enough, a fixed step; with
 * 1,000 clients an edgeio host gets there after about 90 s idle: try `--idle 150`).
 *
 *   node bench/memory-retained.ts [--clients 1000] [--idle 60]
 */
import { parseArgs } from "node:util";
import { connectWebSocket } from "./lib/cpu-profile.ts";
import { settledMemory } from "./lib/settled-memory.ts";
import { sleep } from "./lib/stats.ts";
import { startEngineSystem } from "./systems/engine.ts";
import type { RunningSystem } from "./systems/types.ts";
import { warmUp } from "./warm-up.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "1000" },
    idle: { type: "string", default: "60" },
  },
});
const clients = Number(values.clients);
const idleMs = Number(values.idle) * 1000;

/** The runtime's RSS and RssAnon (KiB) after a forced GC (retried: the inspector can miss one while the runtime is busy), or NaN. */
async function settledKiB(system: RunningSystem): Promise<{ rss: number; anon: number }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const reading = await settledMemory(system).catch(() => null);
    if (reading) return { rss: reading["workerd runtime"].rssBytes / 1024, anon: reading["workerd runtime"].anonBytes / 1024 };
    await sleep(2000);
  }
  return { rss: Number.NaN, anon: Number.NaN };
}

async function openAll(url: string) {
  const sockets = [];
  // In batches of 100, as the bench's load generators pace a connect burst.
  for (let opened = 0; opened < clients; opened += 100)
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, clients - opened) }, () => connectWebSocket(url)))));
  return sockets;
}

for (const id of ["edgeio-engine", "floor"] as const) {
  const system = await startEngineSystem(id, "worktree");
  try {
    // The bench's own warm-up and pause before its baseline (bench/rounds.ts `prepare`).
    await warmUp(system);
    await sleep(1000);
    const baseline = await settledKiB(system);
    const sockets = await openAll(system.wsUrls[0]);
    await sleep(idleMs);
    const held = await settledKiB(system);
    for (const socket of sockets) socket.disconnect();
    await sleep(15_000);
    const closed = await settledKiB(system);
    const per = (reading: { rss: number; anon: number }) =>
      `RssAnon ${((reading.anon - baseline.anon) / clients).toFixed(1)} (RSS ${((reading.rss - baseline.rss) / clients).toFixed(1)})`;
    console.log(`${id}: ${clients} idle ${values.idle} s: KiB per connection ${per(held)} held, ${per(closed)} once all closed`);
  } finally {
    await system.stop();
  }
}
process.exit(0);
