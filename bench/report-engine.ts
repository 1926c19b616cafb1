/**
 * The engine-setup sections of the report: the work billed per operation and its cost at list
 * prices (the acceptance ratios are in report-ratios.ts).
 */
import { ratioRoomOf } from "./lib/options.ts";
import { costOf, perOperation, PRICES, type Work } from "./lib/work.ts";
import type { BenchResults, SystemResult } from "./report.ts";
import type { BroadcastFigures } from "./scenario-figures.ts";
import { PING_INTERVAL_MS, STEADY_IDLE_MS } from "./scenarios.ts";
import { PRODUCTION_DEFAULTS } from "./systems/edgeio.ts";

export { settledRow } from "./lib/settled-memory.ts";

const ENGINE_IDS = ["edgeio-engine", "floor", "partyserver"];

/** The room size the ratios use: 100 where it was run, else the largest. */
export const ratioRoom = (results: BenchResults) => ratioRoomOf(results.options.rooms);

export const burst = (s: SystemResult, size: number): BroadcastFigures | undefined =>
  s.broadcast.find((b) => b.size === size && b.mode === "burst");
export const num = (n: number | null | undefined, digits = 2): string => {
  if (n === null || n === undefined || !Number.isFinite(n)) return "n/a";
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en-US");
  if (Math.abs(n) >= 100) return n.toFixed(0);
  return n.toFixed(digits);
};

interface Operation {
  name: string;
  /** The work of one operation, or null where this system did not run it or has no counters. */
  of(s: SystemResult): Work | null;
  /** How many of this operation make one cost unit, and its name. */
  costUnit: { per: number; label: string };
}

function operations(results: BenchResults): Operation[] {
  const room = ratioRoom(results);
  const per = (work: Work | undefined, n: number | undefined) => (work && n ? perOperation(work, n) : null);
  return [
    {
      name: "WebSocket connect (one client)",
      of: (s) => per(s.connect?.work, s.connect?.ok),
      costUnit: { per: 1000, label: "per 1,000 connects" },
    },
    {
      name: "WebSocket disconnect (one client, in the rooms its round joined)",
      of: (s) => per(s.disconnect?.work, s.disconnect?.closed),
      costUnit: { per: 1000, label: "per 1,000 disconnects" },
    },
    {
      name: `room of ${room}: one delivery (burst; the sender's emit included)`,
      of: (s) => per(burst(s, room)?.work, burst(s, room)?.delivered),
      costUnit: { per: 1e6, label: "per million messages delivered" },
    },
    {
      name: `room of ${room}: one broadcast (one emit to ${room} members)`,
      of: (s) => per(burst(s, room)?.work, burst(s, room)?.messages),
      costUnit: { per: 1e6, label: "per million broadcasts" },
    },
    {
      name: "long-polling connect (one client: handshake, CONNECT, first held GET)",
      of: (s) => per(s.polling?.connectPhase?.work, s.polling?.connected),
      costUnit: { per: 1000, label: "per 1,000 connects" },
    },
    {
      name: "long-polling round trip (emit with ack, on a connected client)",
      of: (s) => per(s.polling?.work, s.polling?.rttMs.count),
      costUnit: { per: 1e6, label: "per million round trips" },
    },
    {
      name: "idle WebSocket, one connection-hour",
      of: (s) => idleWork(s),
      costUnit: { per: 1000, label: "per 1,000 connection-hours" },
    },
  ];
}

/**
 * Idle work per connection-hour: each engine system's from its steady-state window (scenarios.ts
 * STEADY_IDLE_MS: whole ping intervals, holding one lease period per edgeio host, after the idle
 * window); a system without one's from the idle window itself.
 */
function idleWork(s: SystemResult): Work | null {
  const idle = s.idle;
  if (!idle || idle.connections === 0) return null;
  const window = idle.steady?.work ? { work: idle.steady.work, seconds: idle.steady.seconds } : { work: idle.work, seconds: idle.seconds };
  return window.work ? perOperation(window.work, (idle.connections * window.seconds) / 3600) : null;
}

/** What the idle row is, from the windows this run measured. */
function idleNote(results: BenchResults): string {
  const steady = results.systems.find((s) => s.idle?.steady?.work)?.idle?.steady;
  const base = `Idle: the work over the idle window (${results.options.idleSeconds} s, once the runtime was quiet after the connects) per connection-hour`;
  if (!steady) return `${base}.`;
  return (
    `${base}; the engine systems' over a steady-state window of ${steady.seconds.toFixed(0)} s right after it (${STEADY_IDLE_MS / 1000} s: ` +
    `whole ${PING_INTERVAL_MS / 1000} s ping intervals holding one ${PRODUCTION_DEFAULTS.PRESENCE_LEASE_MS / 1000} s lease period, so every heartbeat alarm, ` +
    "and each edgeio host's lease renewal and load-report keepalive), divided by its connection-hours: no post-connect work in it."
  );
}

export function workSection(results: BenchResults): string[] {
  const systems = results.systems.filter((s) => ENGINE_IDS.includes(s.id));
  if (systems.length === 0) return [];
  const header = ["operation", "work", ...systems.map((s) => s.label)];
  const lines = [
    "## Work billed per operation (engine setup)",
    "",
    "Counted inside workerd by bench/workers/counters.ts: Worker requests (the default handler's fetch, loopbacks included), " +
      "Durable Object requests (stub fetches and RPC calls, alarms, WebSocket messages received), SQLite rows from every " +
      "cursor's rowsRead/rowsWritten (plus one row per key of the key-value API); runtime CPU from /proc/<pid>/stat of the " +
      "workerd runtime. Storage commits (fsyncs) are not measurable from JavaScript: n/a. From round 1 (the counts do not " +
      "depend on the machine's load; the CPU medians over every round are in the table above). " +
      idleNote(results),
    "",
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => (i < 2 ? "---" : "---:")).join("|")}|`,
  ];
  const rows: Array<[string, (w: Work) => number]> = [
    ["Worker requests", (w) => w.workerRequests],
    ["DO requests (fetch + RPC + alarms + WS messages in)", (w) => w.doRequests],
    ["of which RPC calls", (w) => w.doRpcs],
    ["SQLite rows read", (w) => w.rowsRead],
    ["SQLite rows written", (w) => w.rowsWritten],
    ["runtime CPU, ms", (w) => w.cpuMs],
  ];
  for (const op of operations(results)) {
    rows.forEach(([label, pick], i) => {
      lines.push(
        `| ${i === 0 ? `**${op.name}**` : ""} | ${label} | ${systems
          .map((s) => {
            const w = op.of(s);
            return w ? num(pick(w), 3) : "n/a";
          })
          .join(" | ")} |`,
      );
    });
  }
  lines.push(
    "",
    "### Cost at Cloudflare's list prices",
    "",
    `Workers Paid, beyond the included monthly usage: Worker requests $${(PRICES.workerRequest * 1e6).toFixed(2)}/million, ` +
      `CPU $${(PRICES.workerCpuMs * 1e6).toFixed(2)}/million ms, Durable Object requests $${(PRICES.doRequest * 1e6).toFixed(2)}/million ` +
      `(incoming WebSocket messages ${PRICES.webSocketMessagesPerRequest}:1), rows read $${(PRICES.rowRead * 1e6).toFixed(3)}/million, ` +
      `rows written $${(PRICES.rowWritten * 1e6).toFixed(2)}/million (sources: docs/benchmarks.md § Prices). All runtime CPU is ` +
      "charged at the Workers CPU price; Durable Object duration (wall-clock × 128 MB while not hibernated) is not included. " +
      "Local counts and local CPU: an estimate of the shape of the bill, not a quote.",
    "",
    `| operation | unit | ${systems.map((s) => s.label).join(" | ")} |`,
    `|---|---|${systems.map(() => "---:").join("|")}|`,
  );
  for (const op of operations(results)) {
    lines.push(
      `| ${op.name} | ${op.costUnit.label} | ${systems
        .map((s) => {
          const w = op.of(s);
          return w ? `$${num(costOf(w) * op.costUnit.per, 4)}` : "n/a";
        })
        .join(" | ")} |`,
    );
  }
  lines.push("");
  return lines;
}
