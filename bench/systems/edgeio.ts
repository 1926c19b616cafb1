/**
 * edgeio as the README starts it: `wrangler dev` (via test/helpers/service.ts), running the
 * echo example app (examples/echo), whose `join`, `echo` and `io-to-room` events the
 * benchmark uses. Memory is the RSS of the workerd processes wrangler starts.
 */
import { z } from "zod";
import { startService } from "../../test/helpers/service.ts";
import { commandLine, descendants } from "../lib/proc.ts";
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

export async function startEdgeio(): Promise<RunningSystem> {
  const before = new Set(descendants(process.pid));
  const service = await startService({ config: "examples/echo/wrangler.toml" });
  const tree = () => descendants(process.pid).filter((pid) => !before.has(pid));
  const workerds = tree().filter(isWorkerd);
  if (workerds.length === 0) throw new Error("no workerd process found under wrangler dev");
  // The host pool is named after the colo the Worker sees (wrangler dev reports a fixed one offline).
  const handshake = await (await fetch(`${service.url}/socket.io/?EIO=4&transport=polling`)).text();
  const sid = z.object({ sid: z.string() }).parse(JSON.parse(handshake.slice(1))).sid;
  const colo = Buffer.from(sid.split(".")[0], "base64url").toString().split(":")[0];

  return {
    id: "edgeio",
    label: "edgeio (wrangler dev)",
    wsUrls: [service.url],
    pollingUrls: [service.url],
    memoryPids: () => workerds,
    cpuPids: tree,
    auxiliary: () => ({}),
    async wakeStats(): Promise<WakeStats> {
      const response = await fetch(`${service.url}/_edgeio/hosts?colo=${encodeURIComponent(colo)}`);
      const hosts = HostStatsSchema.parse(await response.json());
      const sum = (key: keyof WakeStats) => hosts.reduce((total, h) => total + h[key], 0);
      return { wakes: sum("wakes"), alarms: sum("alarms"), sessions: sum("sessions"), webSockets: sum("webSockets"), constructions: sum("constructions") };
    },
    async extra() {
      return { workerdProcesses: workerds.map((pid) => ({ pid, command: commandLine(pid).slice(0, 160) })), colo };
    },
    stop: () => service.stop(),
  };
}
