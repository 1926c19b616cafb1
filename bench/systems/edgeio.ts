/**
 * edgeio as the README starts it: `wrangler dev` (via test/helpers/service.ts), running the
 * bench's room app (bench/workers/room-app.ts: the workload's `join`, `leave`, `echo` and
 * `io-to-room` events; `--edgeio-app echo`: the echo example, examples/echo), from a frozen
 * copy of the sources (see snapshot.ts), with the production
 * presence lease. Clients go through wrangler's dev proxy and the local trace collector is on,
 * as in `npm run dev`. Memory is the RSS of the workerd processes wrangler starts.
 */
import { join } from "node:path";
import { z } from "zod";
import { startService } from "../../test/helpers/service.ts";
import { commandLine, descendants } from "../../test/helpers/proc.ts";
import { edgeioConfig, type EdgeioApp } from "./edgeio-app.ts";
import { snapshotSources } from "./snapshot.ts";
import type { RunningSystem, WakeStats } from "./types.ts";

const HostStatsSchema = z.array(
  z.looseObject({
    wakes: z.number(),
    alarms: z.number(),
    sessions: z.number(),
    webSockets: z.number(),
    constructions: z.number(),
    // Added by the lean host (issue 11); absent before it.
    rowsRead: z.number().optional(),
    rowsWritten: z.number().optional(),
    invocations: z.number().optional(),
  }),
);

/** Production defaults, which the echo example's wrangler.toml shortens for its tests (its stats report every 500 ms). */
export const PRODUCTION_DEFAULTS = { PRESENCE_LEASE_MS: 60_000, PRESENCE_GRACE_MS: 5_000, STATS_REPORT_MS: 5_000 };

/** wrangler dev may take minutes to start on a loaded machine. */
export const START_TIMEOUT_MS = 180_000;

const isWorkerd = (pid: number) => /\/workerd\s/.test(`${commandLine(pid)} `);

/** The host pool is named after the colo the Worker sees (wrangler dev reports a fixed one offline). */
export async function coloOf(url: string): Promise<string> {
  const handshake = await (await fetch(`${url}/socket.io/?EIO=4&transport=polling`)).text();
  const sid = z.object({ sid: z.string() }).parse(JSON.parse(handshake.slice(1))).sid;
  return Buffer.from(sid.split(".")[0], "base64url").toString().split(":")[0];
}

/** Counters summed over the colo's host pool (`GET /_edgeio/hosts`, development only). */
export async function hostStats(url: string, colo: string): Promise<WakeStats> {
  const response = await fetch(`${url}/_edgeio/hosts?colo=${encodeURIComponent(colo)}`);
  const hosts = HostStatsSchema.parse(await response.json());
  const sum = (key: "wakes" | "alarms" | "sessions" | "webSockets" | "constructions") => hosts.reduce((total, h) => total + h[key], 0);
  const optional = (key: "rowsRead" | "rowsWritten" | "invocations") =>
    hosts.every((h) => typeof h[key] === "number") ? hosts.reduce((total, h) => total + (h[key] ?? 0), 0) : undefined;
  return {
    wakes: sum("wakes"),
    alarms: sum("alarms"),
    sessions: sum("sessions"),
    webSockets: sum("webSockets"),
    constructions: sum("constructions"),
    rowsRead: optional("rowsRead"),
    rowsWritten: optional("rowsWritten"),
    invocations: optional("invocations"),
  };
}

export async function startEdgeio(source: "worktree" | "head", app: EdgeioApp = "room"): Promise<RunningSystem> {
  const before = new Set(descendants(process.pid));
  const snapshot = snapshotSources(source);
  const service = await startService({
    config: app === "room" ? edgeioConfig(snapshot, "room-worker.ts") : join(snapshot.dir, "examples/echo/wrangler.toml"),
    vars: PRODUCTION_DEFAULTS,
    readyTimeoutMs: START_TIMEOUT_MS,
  }).catch((error: unknown) => {
    snapshot.remove();
    throw error;
  });
  const tree = () => descendants(process.pid).filter((pid) => !before.has(pid));
  const currentWorkerds = () =>
    tree()
      .filter(isWorkerd)
      .sort((a, b) => a - b);
  const workerds = currentWorkerds();
  if (workerds.length !== 2) throw new Error(`expected wrangler dev's two workerd processes, found ${workerds.length}`);
  const colo = await coloOf(service.url);

  return {
    id: "edgeio",
    label: "edgeio (wrangler dev)",
    wsUrls: [service.url],
    pollingUrls: [service.url],
    // wrangler dev runs two workerd processes: the runtime hosting the Worker and its Durable
    // Objects, and a dev proxy in front of it. Both hold per-connection state, so both count.
    memoryProcesses: () =>
      Object.fromEntries(
        workerds.map((pid) => [commandLine(pid).includes("--inspector-addr") ? "workerd runtime" : "workerd dev proxy", pid]),
      ),
    cpuPids: tree,
    auxiliary: () => ({}),
    wakeStats: () => hostStats(service.url, colo),
    async extra() {
      return {
        source: snapshot.source,
        workerdProcesses: workerds.map((pid) => ({ pid, command: commandLine(pid).slice(0, 160) })),
        app,
        colo,
        vars: PRODUCTION_DEFAULTS,
      };
    },
    restarted: () => currentWorkerds().join(",") !== workerds.join(","),
    async stop() {
      await service.stop();
      snapshot.remove();
    },
  };
}
