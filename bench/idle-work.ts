/**
 * What idle WebSocket connections cost edgeio in steady state (issue 11): starts the engine setup
 * (bench/systems/engine.ts, production defaults: 25 s pings, 60 s lease, 5 s load reports),
 * connects socket.io-client WebSockets, waits until the runtime is quiet (lib/quiet.ts), then
 * reads the bench's counters (bench/workers/counters.ts: every object's alarms, RPCs and SQLite
 * rows, in the isolate, so evictions lose nothing) every 500 ms over a window of whole heartbeat
 * periods and at least one lease period. Prints each moment something ran (the alarms and what
 * they did), the totals, and per alarm and per connection-hour. Not part of `npm run bench`.
 * Takes about a minute to start (and 47 s for the colo probe to close) plus the window.
 *
 *   flock /tmp/bench.lock node bench/idle-work.ts [--clients 200] [--seconds 125] [--source worktree|head]
 *
 * The counters cover every object: an alarm's rows include what the RoomDOs it calls read and
 * write (their renew and reportLoad). The hosts' own counts per instance are in `stats().work`
 * (test/workerd/idle-work.test.ts asserts them per alarm).
 */
import { parseArgs } from "node:util";
import { connectWebSocket } from "./lib/cpu-profile.ts";
import { settleBeforeIdle } from "./lib/quiet.ts";
import { nowMs, sleep } from "./lib/stats.ts";
import { workBetween, type Work, type WorkCounters } from "./lib/work.ts";
import { startEngineSystem } from "./systems/engine.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "200" },
    seconds: { type: "string", default: "125" },
    source: { type: "string", default: "worktree" },
  },
});
const clients = Number(values.clients);
const CONNECT_TIMEOUT_MS = 45_000;
const seconds = Number(values.seconds);

const brief = (w: Work) => {
  const calls = Object.entries(w.detail)
    .filter(([key]) => !key.startsWith("storage."))
    .map(([key, n]) => `${key} ${n}`)
    .join(", ");
  return `rows read ${w.rowsRead}, rows written ${w.rowsWritten}, statements ${w.sqlStatements}; ${calls}`;
};

const system = await startEngineSystem("edgeio-engine", values.source === "head" ? "head" : "worktree");
try {
  const [url] = system.wsUrls;
  // The system's start made one polling handshake (bench/systems/edgeio.ts coloOf) that never
  // connects: its pings and its close at the connect deadline (45 s) are not idle WebSockets' work.
  await sleep(CONNECT_TIMEOUT_MS + 2000);
  const sockets = [];
  for (let i = 0; i < clients; i += 50)
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, clients - i) }, () => connectWebSocket(url)))));
  let disconnects = 0;
  for (const socket of sockets) socket.on("disconnect", () => disconnects++);
  const settle = await settleBeforeIdle(system);
  console.log(`${sockets.length} WebSockets; window starts ${settle.waitedS.toFixed(1)} s after the connects (quiet: ${settle.quiet})`);
  const hostsBefore = await system.wakeStats!();
  const first: WorkCounters = await system.counters!();
  const start = nowMs();
  let previous = first;
  while (nowMs() - start < seconds * 1000) {
    await sleep(500);
    const now = await system.counters!();
    const step = workBetween(previous, now, 0);
    if (step.doRequests + step.sqlStatements + step.workerRequests > 0)
      console.log(`  t=${((nowMs() - start) / 1000).toFixed(1)} s: ${brief(step)}`);
    previous = now;
  }
  const wallS = (nowMs() - start) / 1000;
  const total = workBetween(first, previous, 0);
  const hostsAfter = await system.wakeStats!();
  const alarms = total.alarms;
  const connectionHours = (sockets.length * wallS) / 3600;
  console.log(`\nwindow ${wallS.toFixed(1)} s, ${sockets.length} connections (${disconnects} dropped), ${alarms} host alarms`);
  console.log(
    `hosts: constructions +${hostsAfter.constructions - hostsBefore.constructions}, wakes +${hostsAfter.wakes - hostsBefore.wakes}`,
  );
  console.log(`total: ${brief(total)}`);
  const per = (n: number, by: number) => (by > 0 ? (n / by).toFixed(3) : "n/a");
  const rpcs = total.doRpcs;
  console.log(
    `per alarm: rows read ${per(total.rowsRead, alarms)}, rows written ${per(total.rowsWritten, alarms)}, statements ${per(total.sqlStatements, alarms)}, RPCs ${per(rpcs, alarms)}`,
  );
  console.log(
    `per connection-hour: DO requests ${per(total.doRequests, connectionHours)} (RPCs ${per(rpcs, connectionHours)}, alarms ${per(alarms, connectionHours)}), rows read ${per(total.rowsRead, connectionHours)}, rows written ${per(total.rowsWritten, connectionHours)}`,
  );
  for (const socket of sockets) socket.disconnect();
} finally {
  await system.stop();
}
