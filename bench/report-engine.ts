/**
 * The engine-setup sections of the report: edgeio against the floor and PartyServer (the
 * issue's acceptance ratios), the work billed per operation, and its cost at list prices.
 */
import { settledPerConnectionKiB } from "./lib/settled-memory.ts";
import { costOf, perOperation, PRICES, type Work } from "./lib/work.ts";
import type { BenchResults, SystemResult } from "./report.ts";
import type { BroadcastFigures } from "./scenarios.ts";

export { settledRow } from "./lib/settled-memory.ts";

const ENGINE_IDS = ["edgeio-engine", "floor", "partyserver"];

/** The room size the ratios use: 100 where it was run, else the largest. */
export const ratioRoom = (results: BenchResults) =>
  results.options.rooms.includes(100) ? 100 : results.options.rooms[results.options.rooms.length - 1];

const burst = (s: SystemResult, size: number): BroadcastFigures | undefined =>
  s.broadcast.find((b) => b.size === size && b.mode === "burst");
const paced = (s: SystemResult, size: number): BroadcastFigures | undefined =>
  s.broadcast.find((b) => b.size === size && b.mode === "paced");

const num = (n: number | null | undefined, digits = 2): string => {
  if (n === null || n === undefined || !Number.isFinite(n)) return "n/a";
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en-US");
  if (Math.abs(n) >= 100) return n.toFixed(0);
  return n.toFixed(digits);
};

/**
 * Runtime memory per idle WebSocket: the workerd runtime's RSS after a forced GC, over the
 * same before the first client (see docs/benchmarks.md); the plain RSS growth where no GC
 * could be forced (results of older runs).
 */
function memoryPerWebSocketKiB(s: SystemResult): number | null {
  const settled = settledPerConnectionKiB(s, "rssBytes");
  if (settled !== null || !s.idle || s.idle.connections <= 0) return settled;
  const runtime = s.idle.rssByProcess["workerd runtime"];
  return runtime ? (runtime.afterIdle - runtime.baseline) / s.idle.connections / 1024 : null;
}

/** The figures the acceptance ratios compare, per system (null where not measured). */
export function figures(s: SystemResult, room: number) {
  const b = burst(s, room);
  const rtts = s.polling?.rttMs.count ?? 0;
  return {
    connectionsPerS: s.connect?.connectionsPerS ?? null,
    cpuPerConnectMs: s.connect && s.connect.ok > 0 ? (s.connect.serverCpuS * 1000) / s.connect.ok : null,
    pacedP50Ms: paced(s, room)?.latencyMs.p50 ?? null,
    cpuPerDeliveryMs: b && b.delivered > 0 ? (b.serverCpuS * 1000) / b.delivered : null,
    deliveriesPerS: b?.deliveriesPerS ?? null,
    memoryPerWebSocketKiB: memoryPerWebSocketKiB(s),
    pollingCpuPerRoundTripMs: s.polling && rtts > 0 ? (s.polling.serverCpuS * 1000) / rtts : null,
    workerRequestsPerRoundTrip: s.polling?.work && rtts > 0 ? s.polling.work.workerRequests / rtts : null,
  };
}

interface Target {
  metric: string;
  key: keyof ReturnType<typeof figures>;
  against: "floor" | "partyserver" | null;
  /** Passes when edgeio ÷ peer (or the absolute figure, without a peer) is within this bound. */
  bound: { max?: number; min?: number; exclusive?: boolean };
}

const TARGETS = (room: number): Target[] => [
  { metric: "connections per second", key: "connectionsPerS", against: "floor", bound: { min: 0.8 } },
  { metric: "server CPU per connect, ms", key: "cpuPerConnectMs", against: "floor", bound: { max: 1.3 } },
  { metric: `room of ${room}, paced latency p50, ms`, key: "pacedP50Ms", against: "floor", bound: { max: 1.2 } },
  { metric: `server CPU per delivery (room of ${room}, burst), ms`, key: "cpuPerDeliveryMs", against: "floor", bound: { max: 1.3 } },
  { metric: "runtime memory per idle WebSocket, KiB", key: "memoryPerWebSocketKiB", against: "floor", bound: { max: 1.1 } },
  {
    metric: `deliveries per second (room of ${room}, burst)`,
    key: "deliveriesPerS",
    against: "partyserver",
    bound: { min: 1, exclusive: true },
  },
  {
    metric: `server CPU per delivery (room of ${room}, burst), ms`,
    key: "cpuPerDeliveryMs",
    against: "partyserver",
    bound: { max: 1, exclusive: true },
  },
  { metric: "long-polling: server CPU per round trip, ms", key: "pollingCpuPerRoundTripMs", against: null, bound: { max: 1.5 } },
  { metric: "long-polling: Worker requests per round trip", key: "workerRequestsPerRoundTrip", against: null, bound: { max: 2 } },
];

const boundText = (b: Target["bound"]) =>
  b.min !== undefined ? `${b.exclusive ? ">" : "≥"} ${b.min}` : `${b.exclusive ? "<" : "≤"} ${b.max}`;

function meets(value: number, b: Target["bound"]): boolean {
  if (b.min !== undefined) return b.exclusive ? value > b.min : value >= b.min;
  if (b.max !== undefined) return b.exclusive ? value < b.max : value <= b.max;
  return true;
}

export function acceptanceSection(results: BenchResults): string[] {
  const by = (id: string) => results.systems.find((s) => s.id === id);
  const edgeio = by("edgeio-engine");
  if (!edgeio) return [];
  const room = ratioRoom(results);
  const mine = figures(edgeio, room);
  const lines = [
    "## edgeio against the floor and PartyServer (engine setup)",
    "",
    "Issue 11's acceptance ratios, from this run. The floor is a minimal hibernatable-WebSocket Durable Object " +
      "(bench/workers/floor.ts); PartyServer runs the same room workload (bench/workers/party.ts); both on the same workerd, " +
      "clients straight to the runtime, trace collector off. ✓ meets the target, ✗ does not.",
    "",
    "| figure | edgeio | peer | peer's figure | edgeio ÷ peer | target | |",
    "|---|---:|---|---:|---:|---:|---|",
  ];
  for (const t of TARGETS(room)) {
    const peer = t.against ? by(t.against) : undefined;
    const theirs = peer ? figures(peer, room)[t.key] : null;
    const value = mine[t.key];
    const compared = t.against ? (value !== null && theirs !== null && theirs > 0 ? value / theirs : null) : value;
    const verdict = compared === null ? "n/a" : meets(compared, t.bound) ? "✓" : "✗";
    lines.push(
      `| ${t.metric} | ${num(value)} | ${t.against ?? "—"} | ${t.against ? num(theirs) : ""} | ${t.against ? (compared === null ? "n/a" : `${compared.toFixed(2)}×`) : ""} | ${boundText(t.bound)}${t.against ? "×" : ""} | ${verdict} |`,
    );
  }
  lines.push("");
  return lines;
}

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
      of: (s) => per(s.idle?.work, s.idle ? (s.idle.connections * s.idle.seconds) / 3600 : undefined),
      costUnit: { per: 1000, label: "per 1,000 connection-hours" },
    },
  ];
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
      "workerd runtime. Storage commits (fsyncs) are not measurable from JavaScript: n/a.",
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
