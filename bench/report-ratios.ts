/**
 * The report's first table: edgeio (engine) against the floor and PartyServer, issue 11's
 * acceptance ratios. Where the run had interleaved rounds (bench/rounds.ts) every figure is
 * the median over the rounds with its spread (min–max), the ratio is the ratio of the medians,
 * and the per-round ratios (edgeio's round r over the peer's round r) show how stable it is.
 */
import { settledPerConnectionKiB } from "./lib/settled-memory.ts";
import { burst, num, ratioRoom } from "./report-engine.ts";
import type { BenchResults, SystemResult } from "./results.ts";
import type { BroadcastFigures } from "./scenario-figures.ts";

const paced = (s: SystemResult, size: number): BroadcastFigures | undefined =>
  s.broadcast.find((b) => b.size === size && b.mode === "paced");

/**
 * Runtime memory per idle WebSocket: the workerd runtime's private memory (RssAnon) after a
 * forced GC, over the same before the first client. Not its RSS: that also counts pages of the
 * workerd executable, mapped in once when V8's optimizing compiler first runs (a fixed step,
 * not per socket: docs/benchmarks.md "Runtime memory per idle WebSocket"). The plain RSS
 * growth where no GC could be forced (results of older runs).
 */
function memoryPerWebSocketKiB(s: SystemResult): number | null {
  const settled = settledPerConnectionKiB(s, "anonBytes");
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
    cpuPerDisconnectMs: s.disconnect && s.disconnect.closed > 0 ? (s.disconnect.serverCpuS * 1000) / s.disconnect.closed : null,
    pacedP50Ms: paced(s, room)?.latencyMs.p50 ?? null,
    cpuPerDeliveryMs: b && b.delivered > 0 ? (b.serverCpuS * 1000) / b.delivered : null,
    deliveriesPerS: b?.deliveriesPerS ?? null,
    memoryPerWebSocketKiB: memoryPerWebSocketKiB(s),
    pollingCpuPerRoundTripMs: s.polling && rtts > 0 ? (s.polling.serverCpuS * 1000) / rtts : null,
    workerRequestsPerRoundTrip: s.polling?.work && rtts > 0 ? s.polling.work.workerRequests / rtts : null,
  };
}
type Figures = ReturnType<typeof figures>;
type Key = keyof Figures;

/** Keys measured once per system (in round 1's idle period), not per round. */
const ONCE: Key[] = ["memoryPerWebSocketKiB"];

/** Each round's figures, in round order (one entry for a run without interleaved rounds). */
export function perRound(s: SystemResult, room: number): Figures[] {
  if (!s.rounds?.length) return [figures(s, room)];
  return s.rounds.map((r) =>
    figures({ ...s, connect: r.connect, broadcast: r.broadcast, disconnect: r.disconnect, polling: r.polling }, room),
  );
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Median (the mean of the middle two for an even count) and range of the finite values; null if none. */
export function spreadOf(values: Array<number | null>): Spread | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return { median: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2, min: v[0], max: v[v.length - 1], n: v.length };
}

/** Three decimals below 1 (CPU per delivery is a few hundredths of a ms), else two. */
const fixed = (n: number) => num(n, Math.abs(n) < 1 ? 3 : 2);
const spreadText = (s: Spread | null): string =>
  s === null ? "n/a" : s.n > 1 ? `${fixed(s.median)} (${fixed(s.min)}–${fixed(s.max)})` : fixed(s.median);

interface Target {
  metric: string;
  key: Key;
  against: "floor" | "partyserver" | null;
  /** Passes when edgeio ÷ peer (or the absolute figure, without a peer) is within this bound; null: shown, not a target. */
  bound: { max?: number; min?: number; exclusive?: boolean } | null;
}

const TARGETS = (room: number): Target[] => [
  { metric: "connections per second", key: "connectionsPerS", against: "floor", bound: { min: 0.8 } },
  { metric: "server CPU per connect, ms", key: "cpuPerConnectMs", against: "floor", bound: { max: 1.3 } },
  {
    metric: "server CPU per disconnect (the clients in the round's rooms), ms",
    key: "cpuPerDisconnectMs",
    against: "floor",
    bound: null,
  },
  { metric: `room of ${room}, paced latency p50, ms`, key: "pacedP50Ms", against: "floor", bound: { max: 1.2 } },
  { metric: `server CPU per delivery (room of ${room}, burst), ms`, key: "cpuPerDeliveryMs", against: "floor", bound: { max: 1.3 } },
  {
    metric: "runtime memory per idle WebSocket (private, after a forced GC), KiB",
    key: "memoryPerWebSocketKiB",
    against: "floor",
    bound: { max: 1.1 },
  },
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
  b === null ? "—" : b.min !== undefined ? `${b.exclusive ? ">" : "≥"} ${b.min}` : `${b.exclusive ? "<" : "≤"} ${b.max}`;

function meets(value: number, b: NonNullable<Target["bound"]>): boolean {
  if (b.min !== undefined) return b.exclusive ? value > b.min : value >= b.min;
  if (b.max !== undefined) return b.exclusive ? value < b.max : value <= b.max;
  return true;
}

/** A system's spread for one key (a figure measured once is taken from round 1 alone). */
const spreadFor = (rounds: Figures[], key: Key) => spreadOf((ONCE.includes(key) ? rounds.slice(0, 1) : rounds).map((f) => f[key]));

/** edgeio's round r over the peer's round r, for every round both measured. */
function pairedRatios(mine: Figures[], theirs: Figures[], key: Key): Spread | null {
  if (ONCE.includes(key)) return null;
  return spreadOf(
    mine.map((f, i) => {
      const [a, b] = [f[key], theirs[i]?.[key] ?? null];
      return a !== null && b !== null && b > 0 ? a / b : null;
    }),
  );
}

export function acceptanceSection(results: BenchResults): string[] {
  const by = (id: string) => results.systems.find((s) => s.id === id);
  const edgeio = by("edgeio-engine");
  if (!edgeio) return [];
  const room = ratioRoom(results);
  const mine = perRound(edgeio, room);
  const rounds = edgeio.rounds?.length ?? 1;
  const lines = [
    "## edgeio against the floor and PartyServer (engine setup)",
    "",
    "Issue 11's acceptance ratios, from this run. The floor is a minimal hibernatable-WebSocket Durable Object " +
      "(bench/workers/floor.ts); PartyServer runs the same room workload (bench/workers/party.ts); both on the same workerd, " +
      "clients straight to the runtime, trace collector off. " +
      (rounds > 1
        ? `The three systems ran together, measured in turn in ${rounds} interleaved rounds (order rotated each round): each ` +
          'figure is the **median over the rounds (min–max)**, the ratio and its verdict are from the medians, and "per-round ' +
          "ratios\" is the range of edgeio's round r over the peer's round r. Memory per idle WebSocket is measured once (round 1). "
        : "One round: no spread. ") +
      "✓ meets the target, ✗ does not.",
    "",
    "| figure | edgeio | peer | peer's figure | edgeio ÷ peer (medians) | per-round ratios | target | |",
    "|---|---:|---|---:|---:|---:|---:|---|",
  ];
  for (const t of TARGETS(room)) {
    const peer = t.against ? by(t.against) : undefined;
    const theirRounds = peer ? perRound(peer, room) : [];
    const value = spreadFor(mine, t.key);
    const theirs = peer ? spreadFor(theirRounds, t.key) : null;
    const compared = t.against
      ? value !== null && theirs !== null && theirs.median > 0
        ? value.median / theirs.median
        : null
      : (value?.median ?? null);
    const verdict = t.bound === null ? "" : compared === null ? "n/a" : meets(compared, t.bound) ? "✓" : "✗";
    const paired = peer ? pairedRatios(mine, theirRounds, t.key) : null;
    const pairedText = paired && paired.n > 1 ? `${paired.min.toFixed(2)}–${paired.max.toFixed(2)}×` : "";
    lines.push(
      `| ${t.metric} | ${spreadText(value)} | ${t.against ?? "—"} | ${t.against ? spreadText(theirs) : ""} | ` +
        `${t.against ? (compared === null ? "n/a" : `${compared.toFixed(2)}×`) : ""} | ${pairedText} | ` +
        `${boundText(t.bound)}${t.against && t.bound ? "×" : ""} | ${verdict} |`,
    );
  }
  lines.push("");
  return lines;
}
