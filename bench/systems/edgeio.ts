/**
 * edgeio as the README starts it: `wrangler dev` (via test/helpers/service.ts), running the
 * echo example app (examples/echo), whose `join`, `echo` and `io-to-room` events the
 * benchmark uses, from a frozen copy of the sources (see snapshot.ts). Memory is the RSS of
 * the workerd processes wrangler starts.
 */
import { join } from "node:path";
import { z } from "zod";
import { startService } from "../../test/helpers/service.ts";
import { commandLine, descendants } from "../lib/proc.ts";
import { snapshotSources } from "./snapshot.ts";
import type { RunningSystem, WakeStats } from "./types.ts";

const HostStatsSchema = z.array(
  z.object({
    wakes: z.number(),
    alarms: z.number(),
    sessions: z.number(),
    webSockets: z.number(),
    constructions: z.number(),
  }),
);

const isWorkerd = (pid: number) => /\/workerd\s/.test(`${commandLine(pid)} `);

export async function startEdgeio(source: "worktree" | "head"): Promise<RunningSystem> {
  const before = new Set(descendants(process.pid));
  const snapshot = snapshotSources(source);
  const service = await startService({ config: join(snapshot.dir, "examples/echo/wrangler.toml") }).catch((error: unknown) => {
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
  // The host pool is named after the colo the Worker sees (wrangler dev reports a fixed one offline).
  const handshake = await (await fetch(`${service.url}/socket.io/?EIO=4&transport=polling`)).text();
  const sid = z.object({ sid: z.string() }).parse(JSON.parse(handshake.slice(1))).sid;
  const colo = Buffer.from(sid.split(".")[0], "base64url").toString().split(":")[0];

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
    async wakeStats(): Promise<WakeStats> {
      const response = await fetch(`${service.url}/_edgeio/hosts?colo=${encodeURIComponent(colo)}`);
      const hosts = HostStatsSchema.parse(await response.json());
      const sum = (key: keyof WakeStats) => hosts.reduce((total, h) => total + h[key], 0);
      return {
        wakes: sum("wakes"),
        alarms: sum("alarms"),
        sessions: sum("sessions"),
        webSockets: sum("webSockets"),
        constructions: sum("constructions"),
      };
    },
    async extra() {
      return { source: snapshot.source, workerdProcesses: workerds.map((pid) => ({ pid, command: commandLine(pid).slice(0, 160) })), colo };
    },
    restarted: () => currentWorkerds().join(",") !== workerds.join(","),
    async stop() {
      await service.stop();
      snapshot.remove();
    },
  };
}
