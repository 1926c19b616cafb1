/**
 * Where a long-polling round trip's CPU goes (issue 11): starts edgeio's engine system (the echo
 * example behind the bench's counters, as bench/profile-connect.ts does), opens `--clients`
 * socket.io-client long-polling clients, then runs `--rounds` `emitWithAck("echo")` round trips
 * per client twice: first unprofiled, for the runtime's CPU and the counted work per round trip
 * (as the bench's polling scenario measures them), then under the runtime's V8 profiler, for the
 * JavaScript self and inclusive time per function. Not part of `npm run bench` or `npm test`.
 *
 *   node bench/profile-polling.ts [--clients 20] [--rounds 30] [--event echo|count] [--top 40] [--save /tmp/polling.cpuprofile]
 *     [--skip-js] [--perf /tmp/polling.perf]
 *
 * `--skip-js` leaves out the V8 profile (a quicker A/B of the CPU per round trip); `--perf FILE`
 * records the runtime's native stacks (Linux `perf record -g`) over the unprofiled round trips:
 * the JavaScript is a small share of the CPU, the rest is the runtime's per request and per
 * WebSocket work (`perf report -i FILE --no-children --sort dso,symbol`).
 *
 * `--event echo` (the bench's round trip) runs the echo handler, which changes `socket.data` (one
 * row written per round trip: the app's); `--event count` acks without changing anything, so the
 * difference is what that row costs.
 *
 * Shares are counted samples (interval asked: 100 µs), not weighted by time deltas (see
 * profile-connect.ts for why). Each client's round trips are sequential (one packet each), far
 * under the per-session packet rate limit.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { parseArgs } from "node:util";
import { io, type Socket } from "socket.io-client";
import { sumCpu } from "../test/helpers/proc.ts";
import { printProfile, profileWhile } from "./lib/cpu-profile.ts";
import { perOperation, workBetween } from "./lib/work.ts";
import { CLIENT_OPTIONS } from "./load/client-options.ts";
import { startEngineSystem } from "./systems/engine.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "20" },
    rounds: { type: "string", default: "30" },
    event: { type: "string", default: "echo" },
    top: { type: "string", default: "40" },
    save: { type: "string" },
    "skip-js": { type: "boolean", default: false },
    perf: { type: "string" },
  },
});

function connectPolling(url: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { ...CLIENT_OPTIONS, transports: ["polling"], reconnection: false, forceNew: true });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

/** `rounds` round trips (`--event`) on every client, each client's in sequence; resolves with how many completed. */
async function roundTrips(sockets: Socket[], rounds: number): Promise<number> {
  let done = 0;
  await Promise.all(
    sockets.map(async (socket) => {
      for (let round = 0; round < rounds; round++) {
        if (values.event === "count") await socket.timeout(10_000).emitWithAck("count");
        else {
          const echoed: unknown = await socket.timeout(10_000).emitWithAck("echo", round);
          if (echoed !== round) throw new Error(`wrong echo ${String(echoed)} for ${round}`);
        }
        done++;
      }
    }),
  );
  return done;
}

if (values.event !== "echo" && values.event !== "count") throw new Error("--event is echo or count");
const system = await startEngineSystem("edgeio-engine", "worktree", "deploy", "echo");
try {
  const [url] = system.pollingUrls;
  const clients = Number(values.clients);
  const rounds = Number(values.rounds);
  const sockets = await Promise.all(Array.from({ length: clients }, () => connectPolling(url)));
  await roundTrips(sockets, 3); // warm-up: code compiled, every client's GET held
  // Unprofiled: the runtime's CPU and the counted work per round trip, as the bench measures them.
  const countersBefore = await system.counters!();
  const cpuBefore = sumCpu(system.cpuPids());
  const recorder = values.perf ? await startPerf(values.perf, system.cpuPids()) : null;
  const started = performance.now();
  const measured = await roundTrips(sockets, rounds);
  const wall = performance.now() - started;
  const cpuMs = (sumCpu(system.cpuPids()) - cpuBefore) * 1000;
  if (recorder) await stopPerf(recorder);
  const work = perOperation(workBetween(countersBefore, await system.counters!(), cpuMs), measured);
  console.log(`${measured} round trips in ${wall.toFixed(0)} ms; runtime CPU per round trip ${work.cpuMs.toFixed(2)} ms`);
  const { detail: _detail, ...counts } = work;
  console.log(`work per round trip: ${JSON.stringify(counts)}`);
  if (values["skip-js"]) {
    for (const socket of sockets) socket.disconnect();
  } else {
    await profiledRun(sockets, rounds);
  }
} finally {
  await system.stop();
}

async function profiledRun(sockets: Socket[], rounds: number): Promise<void> {
  // Profiled: the same round trips again.
  const { result: profiled, wallMs, profile } = await profileWhile(() => roundTrips(sockets, rounds));
  for (const socket of sockets) socket.disconnect();
  console.log(`\nprofiled: ${profiled} round trips in ${wallMs.toFixed(0)} ms`);
  printProfile(profile, { save: values.save, top: Number(values.top), per: { count: profiled, unit: "round trip" } });
}

/** `perf record -g` of the runtime's processes (their CPU is most of a round trip's, outside JavaScript). */
async function startPerf(file: string, pids: number[]) {
  const recorder = spawn("perf", ["record", "-q", "-F", "4000", "-g", "-o", file, "-p", pids.join(",")], { stdio: "inherit" });
  await new Promise((resolve) => setTimeout(resolve, 500)); // attached
  return recorder;
}

async function stopPerf(recorder: ReturnType<typeof spawn>): Promise<void> {
  recorder.kill("SIGINT");
  await once(recorder, "exit");
}
