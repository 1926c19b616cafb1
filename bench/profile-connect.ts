/**
 * Where a WebSocket connect's CPU goes (issue 11): starts a system of the engine setup (the
 * echo example behind the bench's counters, or the floor), attaches to the workerd runtime's
 * inspector (Chrome DevTools Protocol), profiles a storm of socket.io-client connects and
 * prints the self time per function and per file. Not part of `npm run bench` or `npm test`.
 *
 *   node bench/profile-connect.ts [--system edgeio-engine|floor] [--clients 300] [--top 40] [--save /tmp/connect.cpuprofile]
 *     [--perf /tmp/connect.perf]
 *
 * It attaches through wrangler's inspector proxy (the runtime's own inspector takes one session,
 * which wrangler holds). Shares are of the samples taken in JavaScript (interval asked: 100 µs),
 * counted, not weighted by the samples' time deltas: on a shared machine a descheduled runtime
 * makes single deltas long, and the runtime blocked in a storage commit shows as "(program)".
 * It also times 50 connects made one at a time (latency without queueing: round trips and
 * storage commits), before the profiled storm. `--perf FILE` records the runtime's native stacks
 * (Linux `perf record -g`) over one more storm, unprofiled, before the profiled one: the runtime's
 * own work (WebSocket accept, attachments, storage) is most of a connect's CPU
 * (`perf report -i FILE --no-children --sort dso,symbol`).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { parseArgs } from "node:util";
import { connectWebSocket, printProfile, profileWhile } from "./lib/cpu-profile.ts";
import { startEngineSystem, type EngineSystemId } from "./systems/engine.ts";

const { values } = parseArgs({
  options: {
    system: { type: "string", default: "edgeio-engine" },
    clients: { type: "string", default: "300" },
    top: { type: "string", default: "40" },
    save: { type: "string" },
    perf: { type: "string" },
  },
});

function connectAll(url: string, count: number) {
  return Promise.all(Array.from({ length: count }, () => connectWebSocket(url)));
}

const system = await startEngineSystem(values.system as EngineSystemId, "worktree");
try {
  const [url] = system.wsUrls;
  const clients = Number(values.clients);
  // Warm up: every host of the pool instantiated, code compiled.
  for (const socket of await connectAll(url, 24)) socket.disconnect();
  // One at a time: each connect's latency without queueing behind the others (round trips, storage commits).
  const latencies: number[] = [];
  for (let i = 0; i < 50; i++) {
    const start = performance.now();
    const [socket] = await connectAll(url, 1);
    latencies.push(performance.now() - start);
    socket.disconnect();
  }
  latencies.sort((a, b) => a - b);
  console.log(`sequential connects: p50 ${latencies[25].toFixed(1)} ms, p90 ${latencies[45].toFixed(1)} ms`);
  if (values.perf) {
    const recorder = spawn("perf", ["record", "-q", "-F", "4000", "-g", "-o", values.perf, "-p", system.cpuPids().join(",")], {
      stdio: "inherit",
    });
    await new Promise((resolve) => setTimeout(resolve, 500)); // attached
    const started = performance.now();
    const sockets = await connectAll(url, clients);
    const wall = performance.now() - started;
    recorder.kill("SIGINT");
    await once(recorder, "exit");
    for (const socket of sockets) socket.disconnect();
    console.log(`perf: ${clients} connects in ${wall.toFixed(0)} ms recorded to ${values.perf}`);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the disconnects handled before the profiled storm
  }
  const { result: sockets, wallMs: wall, profile } = await profileWhile(() => connectAll(url, clients));
  for (const socket of sockets) socket.disconnect();
  console.log(`${clients} connects in ${wall.toFixed(0)} ms (${((clients / wall) * 1000).toFixed(0)}/s)`);
  printProfile(profile, { save: values.save, top: Number(values.top), per: { count: clients, unit: "connect" } });
} finally {
  await system.stop();
}
