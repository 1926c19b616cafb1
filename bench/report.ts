/**
 * Turns a benchmark run into `latest.json` (every figure) and `latest.md` (one Markdown table
 * with every system side by side and edgeio's ratio to each peer, honesty checks, machine info
 * and the exact command), plus a dated copy of the Markdown for full runs.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BURST_MESSAGES_MAX, burstMessages } from "./lib/options.ts";
import { countingLines } from "./counting-check.ts";
import { settledRow, workSection } from "./report-engine.ts";
import { acceptanceSection } from "./report-ratios.ts";
import type { BenchResults, SystemResult } from "./results.ts";
import { QUIET_CAP_MS, QUIET_MS, SETTLE_MS } from "./lib/quiet.ts";
import type { BroadcastFigures, PollingFigures } from "./scenario-figures.ts";

export type { BenchResults, MachineInfo, SystemResult } from "./results.ts";

type Better = "higher" | "lower" | "none";
interface Row {
  metric: string;
  better: Better;
  value(s: SystemResult): number | string | null;
  /** Shown instead of the number, e.g. "12 / 1000" or a warning. */
  format?(s: SystemResult): string | null;
}

const fmt = (n: number | null | undefined, digits = 1): string => {
  if (n === null || n === undefined || Number.isNaN(n)) return "—";
  if (Number.isInteger(n)) return n.toLocaleString("en-US");
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString("en-US");
  return n.toFixed(digits);
};

function ratio(edgeio: number | string | null, peer: number | string | null, better: Better): string {
  if (better === "none" || typeof edgeio !== "number" || typeof peer !== "number") return "";
  if (peer === 0) return edgeio === 0 ? "1.00×" : "—";
  const r = edgeio / peer;
  const good = better === "higher" ? r > 1 : r < 1;
  return `${r.toFixed(2)}×${Math.abs(r - 1) < 0.05 ? "" : good ? " ✓" : ""}`;
}

const sum = (runs: BroadcastFigures[], key: "delivered" | "expected" | "lost" | "duplicates" | "stray") =>
  runs.reduce((n, b) => n + b[key], 0);

export const lossCell = (runs: BroadcastFigures[]): string | null => {
  if (runs.length === 0) return null;
  const [lost, dup, stray] = [sum(runs, "lost"), sum(runs, "duplicates"), sum(runs, "stray")];
  return `${lost + dup + stray > 0 ? "⚠ " : "✓ "}${lost} lost / ${dup} dup / ${stray} stray`;
};

function rows(results: BenchResults): Row[] {
  const o = results.options;
  const out: Row[] = [];
  const section = (title: string) => out.push({ metric: `**${title}**`, better: "none", value: () => "", format: () => "" });

  section(`Connect: ${o.clients} clients over WebSocket`);
  out.push(
    {
      metric: "connected / attempted",
      better: "none",
      value: (s) => s.connect?.ok ?? null,
      format: (s) => (s.connect ? `${s.connect.ok} / ${s.connect.attempted}` : null),
    },
    { metric: "connections per second (higher is better)", better: "higher", value: (s) => s.connect?.connectionsPerS ?? null },
    {
      metric: "time until all connected, s (lower is better)",
      better: "lower",
      value: (s) => s.connect?.timeToAllS ?? null,
      format: (s) => (s.connect ? s.connect.timeToAllS.toFixed(2) : null),
    },
    { metric: "connect latency p50, ms", better: "lower", value: (s) => s.connect?.connectMs.p50 ?? null },
    { metric: "connect latency p99, ms", better: "lower", value: (s) => s.connect?.connectMs.p99 ?? null },
    { metric: "failures", better: "none", value: (s) => s.connect?.failed ?? null },
    {
      metric: "server CPU, s",
      better: "lower",
      value: (s) => s.connect?.serverCpuS ?? null,
      format: (s) => (s.connect ? s.connect.serverCpuS.toFixed(2) : null),
    },
  );

  for (const size of o.rooms) {
    const paced = (s: SystemResult) => s.broadcast.find((x) => x.size === size && x.mode === "paced");
    const burst = (s: SystemResult) => s.broadcast.find((x) => x.size === size && x.mode === "burst");
    const both = (s: SystemResult) => [paced(s), burst(s)].filter((b): b is BroadcastFigures => b !== undefined);
    section(
      `Room broadcast: ${size} members, io.to(room).emit; ${o.messages} messages paced at ${o.rate}/s, then ${burstMessages(o, size)} in a burst`,
    );
    out.push(
      { metric: "paced: latency emit→member p50, ms", better: "lower", value: (s) => paced(s)?.latencyMs.p50 ?? null },
      { metric: "paced: latency p99, ms", better: "lower", value: (s) => paced(s)?.latencyMs.p99 ?? null },
      { metric: "paced: latency max, ms", better: "lower", value: (s) => paced(s)?.latencyMs.max ?? null },
      { metric: "burst: deliveries per second (higher is better)", better: "higher", value: (s) => burst(s)?.deliveriesPerS ?? null },
      { metric: "burst: latency p99, ms", better: "lower", value: (s) => burst(s)?.latencyMs.p99 ?? null },
      {
        metric: "delivered / expected (both runs)",
        better: "none",
        value: () => null,
        format: (s) => (both(s).length ? `${fmt(sum(both(s), "delivered"))} / ${fmt(sum(both(s), "expected"))}` : null),
      },
      { metric: "lost / duplicated / stray deliveries", better: "none", value: () => null, format: (s) => lossCell(both(s)) },
      {
        metric: "server CPU per 1,000 deliveries, ms (burst)",
        better: "lower",
        value: (s) => (burst(s) && burst(s)!.delivered > 0 ? (burst(s)!.serverCpuS * 1e6) / burst(s)!.delivered : null),
      },
    );
  }

  section(`Long-polling: ${o.pollingClients} clients × ${o.pollingRounds} emit-with-ack round trips`);
  out.push(
    {
      metric: "clients connected / attempted",
      better: "none",
      value: (s) => s.polling?.connected ?? null,
      format: (s) => (s.polling ? `${s.polling.connected} / ${s.polling.attempted}` : null),
    },
    { metric: "clients that finished every round trip", better: "none", value: (s) => s.polling?.completed ?? null },
    { metric: "`400 Session ID unknown` seen by clients", better: "none", value: (s) => s.polling?.sessionUnknown ?? null },
    { metric: "other failures (ack timeouts, drops, errors)", better: "none", value: (s) => (s.polling ? otherFailures(s.polling) : null) },
    { metric: "round trip p50, ms", better: "lower", value: (s) => s.polling?.rttMs.p50 ?? null },
    { metric: "round trip p99, ms", better: "lower", value: (s) => s.polling?.rttMs.p99 ?? null },
  );

  section(`Idle: the ${o.clients} WebSocket connections held for ${o.idleSeconds} s`);
  out.push(
    {
      metric: "server memory per connection, KiB (RSS growth over baseline)",
      better: "lower",
      value: (s) => (s.idle ? s.idle.bytesPerConnection / 1024 : null),
    },
    {
      metric: "workerd runtime alone (without wrangler's dev proxy), KiB per connection",
      better: "none",
      value: (s) => {
        const runtime = s.idle?.rssByProcess["workerd runtime"];
        return runtime && s.idle!.connections > 0 ? (runtime.afterIdle - runtime.baseline) / s.idle!.connections / 1024 : null;
      },
    },
    { metric: "server RSS with all connections, MiB", better: "lower", value: (s) => (s.idle ? s.idle.rssAfterIdleBytes / 2 ** 20 : null) },
    settledRow,
    {
      metric: "Durable Object wake-ups per connection-minute",
      better: "none",
      value: (s) => s.idle?.wakes?.wakesPerConnectionMinute ?? null,
      format: (s) => (s.idle?.wakes ? s.idle.wakes.wakesPerConnectionMinute.toFixed(4) : null),
    },
    {
      metric: "of which alarms, per connection-minute",
      better: "none",
      value: (s) => s.idle?.wakes?.alarmsPerConnectionMinute ?? null,
      format: (s) => (s.idle?.wakes ? s.idle.wakes.alarmsPerConnectionMinute.toFixed(4) : null),
    },
    {
      metric: "server CPU while idle, s",
      better: "lower",
      value: (s) => s.idle?.serverCpuS ?? null,
      format: (s) => (s.idle ? s.idle.serverCpuS.toFixed(2) : null),
    },
    {
      metric: `idle window started after the connects, s (quiet: no request for the last ${QUIET_MS / 1000} s)`,
      better: "none",
      value: (s) => s.idle?.settle?.waitedS ?? null,
      format: (s) => (s.idle?.settle ? `${s.idle.settle.waitedS.toFixed(1)}${s.idle.settle.quiet ? " (quiet)" : " (not quiet)"}` : null),
    },
  );
  return out;
}

const otherFailures = (p: PollingFigures) => p.ackTimeouts + p.disconnects + Object.values(p.otherFailures).reduce((a, b) => a + b, 0);

function honesty(results: BenchResults): string[] {
  const lines: string[] = [];
  for (const s of results.systems) {
    for (const b of s.broadcast) {
      const ok = b.lost === 0 && b.duplicates === 0 && b.stray === 0 && b.delivered === b.expected;
      lines.push(
        `- ${ok ? "✓" : "⚠"} ${s.label}, room of ${b.size} (${b.mode}): ${b.members} members × ${b.messages} messages = ${b.expected} expected; ` +
          `${b.delivered} delivered (${b.unique} unique), ${b.lost} lost, ${b.duplicates} duplicated, ${b.stray} stray` +
          (ok ? "" : " — **this run lost or duplicated deliveries**"),
      );
    }
    for (const e of s.errors) lines.push(`- ⚠ ${s.label}: scenario error: ${e}`);
  }
  return lines;
}

function loadTable(results: BenchResults): string[] {
  const lines = [
    "| system | scenario | wall, s | server CPU, s | load generators CPU, s (per process) | busiest load generator, % of a core |",
    "|---|---|---:|---:|---|---:|",
  ];
  for (const s of results.systems) {
    const add = (name: string, f: { wallS: number; serverCpuS: number; loadCpuS: number[]; loadCpuMaxPct: number } | undefined) => {
      if (!f) return;
      const warn = f.loadCpuMaxPct > 85 ? " ⚠" : "";
      lines.push(
        `| ${s.label} | ${name} | ${f.wallS.toFixed(1)} | ${f.serverCpuS.toFixed(2)} | ${f.loadCpuS.map((c) => c.toFixed(2)).join(" + ")} | ${f.loadCpuMaxPct.toFixed(0)}${warn} |`,
      );
    };
    add("connect", s.connect);
    add("idle", s.idle);
    for (const b of s.broadcast) add(`broadcast ${b.size} ${b.mode}`, b);
    add("polling", s.polling);
  }
  return lines;
}

function renderTable(results: BenchResults, base: SystemResult, peers: SystemResult[]): string[] {
  const header = ["Metric", base.label, ...peers.flatMap((p) => [p.label, `${shortName(base.id)} ÷ ${shortName(p.id)}`])];
  const table = [`| ${header.join(" | ")} |`, `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`];
  for (const row of rows(results)) {
    const cell = (s: SystemResult) => {
      const formatted = row.format?.(s);
      if (formatted !== undefined && formatted !== null) return formatted;
      const v = row.value(s);
      return typeof v === "number" ? fmt(v) : (v ?? "—");
    };
    const cells = [row.metric, cell(base)];
    for (const peer of peers)
      cells.push(cell(peer), row.metric.startsWith("**") ? "" : ratio(row.value(base), row.value(peer), row.better));
    table.push(`| ${cells.join(" | ")} |`);
  }
  return table;
}

const ENGINE_PEERS = ["floor", "partyserver"];

export function renderMarkdown(results: BenchResults): string {
  const base = results.systems.find((s) => s.id === "edgeio-engine") ?? results.systems[0];
  const enginePeers = results.systems.filter((s) => ENGINE_PEERS.includes(s.id));
  const otherPeers = results.systems.filter((s) => s !== base && !ENGINE_PEERS.includes(s.id));
  const m = results.machine;
  const o = results.options;
  const tables: string[] = [];
  if (enginePeers.length > 0) tables.push("## Engine setup, side by side", "", ...renderTable(results, base, enginePeers), "");
  if (otherPeers.length > 0) tables.push("## Against wrangler dev and Socket.IO", "", ...renderTable(results, base, otherPeers), "");
  if (enginePeers.length === 0 && otherPeers.length === 0) tables.push(...renderTable(results, base, []), "");
  return [
    `# edgeio benchmark — ${results.startedAt.slice(0, 10)}`,
    "",
    `Command: \`${results.command}\``,
    "",
    `Started ${results.startedAt}, took ${Math.round(results.durationS)} s. Machine: ${m.nproc} cores (${m.cpuModel}), ` +
      `${(m.memoryTotalBytes / 2 ** 30).toFixed(1)} GiB memory, Node ${m.node}, ${m.os}. ` +
      `Load average at start ${m.loadAverageAtStart.map((l) => l.toFixed(2)).join(" ")}, at end ${m.loadAverageAtEnd.map((l) => l.toFixed(2)).join(" ")}.`,
    "",
    m.otherBusyProcesses.length
      ? `Other processes were using CPU when the run started (the machine is shared): ${m.otherBusyProcesses.join("; ")}.`
      : "No other process was using noticeable CPU when the run started.",
    "",
    sourceLine(base),
    "",
    `Options: ${o.clients} clients, rooms ${o.rooms.join("/")}, ${o.messages} messages per room paced at ${o.rate}/s, bursts of ` +
      `${o.rooms.map((size) => burstMessages(o, size)).join("/")} messages (about ${o.burstDeliveries.toLocaleString("en-US")} ` +
      `deliveries, at most ${BURST_MESSAGES_MAX} messages from the one sender), ${o.pollingClients} polling clients × ` +
      `${o.pollingRounds} round trips, idle ${o.idleSeconds} s starting once the runtime ran no request for ${QUIET_MS / 1000} s ` +
      `(at least ${SETTLE_MS / 1000} s, at most ${QUIET_CAP_MS / 1000} s after the last connect: edgeio's post-connect load ` +
      `report is not the steady state; see the idle table), ${o.rounds} interleaved rounds ` +
      `for the engine setup, ${o.loadWorkers} load-generator processes.`,
    "",
    "Every system: the same socket.io-client 4.8 load generators with **client permessage-deflate off**, 25 s ping interval " +
      "and 20 s timeout. edgeio runs " +
      (o.edgeioApp === "echo"
        ? "the echo example app (examples/echo; `--edgeio-app echo`: a welcome emit, a socket.data counter and ~20 listeners per connection beyond the workload)"
        : "the bench's room app (bench/workers/room-app.ts: the workload's four events, as the floor and PartyServer implement them)") +
      " with the production presence lease (60 s), grace " +
      "(5 s) and stats report interval (5 s). **Engine setup**: edgeio, the floor and PartyServer on the workerd that wrangler dev starts, running " +
      (o.engineBuild === "deploy"
        ? "each Worker's deploy bundle (`wrangler deploy --dry-run --outdir`, run with `no_bundle`: no dev-only middleware), "
        : "wrangler dev's own bundle (`--engine-build dev`: its dev-only middleware included), ") +
      "clients sent straight " +
      "to the runtime's own port (not through wrangler's dev proxy) and the local trace collector off (`X_LOCAL_OBSERVABILITY=false`); " +
      "server CPU and memory are the runtime process's. **wrangler dev**: as `npm run dev` runs it (dev proxy, traces on); CPU and " +
      "memory of both workerd processes. The Socket.IO servers (bench/systems/socketio-server.ts) implement the same events. " +
      "Ratios are the first column's figure divided by the peer's; ✓ marks the first column better by more than 5 %. " +
      "All figures are local, on one machine: not Cloudflare's network.",
    "",
    ...acceptanceSection(results),
    ...workSection(results),
    ...tables,
    "## Honesty checks",
    "",
    "Every broadcast carries a run id and a sequence number; each member counts what it received.",
    "",
    `- ${results.selfCheck.passed ? "✓" : "⚠"} Self-check (before the systems): a Socket.IO server that drops every broadcast with seq % 10 = 3 ` +
      `and sends seq % 10 = 7 twice is ${results.selfCheck.passed ? "reported exactly" : "**not reported correctly: do not trust these figures**"} ` +
      `(${results.selfCheck.checks.join("; ")}).`,
    ...honesty(results),
    ...countingLines(results),
    "",
    "## CPU: servers and load generators",
    "",
    "⚠ marks a load generator above 85 % of a core: it, not the server, may have limited that scenario.",
    "",
    ...loadTable(results),
    "",
  ].join("\n");
}

function sourceLine(edgeio: SystemResult): string {
  const source = edgeio.extra?.source as { commit: string; worktree: boolean; dirty: boolean } | undefined;
  if (!source) return "";
  const what = source.worktree
    ? source.dirty
      ? "the working tree, with uncommitted changes, on top of"
      : "the working tree at"
    : "the committed tree of";
  return `edgeio ran from a frozen copy of ${what} commit \`${source.commit.slice(0, 12)}\` (\`--edgeio-source ${source.worktree ? "worktree" : "head"}\`).`;
}

function shortName(id: string): string {
  return (
    (
      {
        "edgeio-engine": "edgeio engine",
        edgeio: "edgeio wrangler dev",
        floor: "floor",
        partyserver: "PartyServer",
        "socketio-single": "SIO 1 proc",
        "socketio-redis": "SIO+Redis WS",
        "socketio-redis-polling": "SIO+Redis polling",
      } as Record<string, string>
    )[id] ?? id
  );
}

export function writeReports(results: BenchResults, dir: string, dated: boolean): string[] {
  mkdirSync(dir, { recursive: true });
  const markdown = renderMarkdown(results);
  const written = [join(dir, "latest.md"), join(dir, "latest.json")];
  writeFileSync(written[0], markdown);
  writeFileSync(written[1], `${JSON.stringify(results, null, 2)}\n`);
  if (dated) {
    const datedPath = join(dir, `${results.startedAt.slice(0, 10)}.md`);
    writeFileSync(datedPath, markdown);
    written.push(datedPath);
  }
  return written;
}
