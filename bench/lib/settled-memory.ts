/**
 * Memory once garbage is collected (the idle scenario, docs/benchmarks.md "Runtime memory per
 * idle WebSocket"): each connection-holding process's RSS and private anonymous memory after
 * a forced full GC in every isolate of the system.
 */
import { readFileSync } from "node:fs";
import { sumRss } from "../../test/helpers/proc.ts";
import type { SystemResult } from "../report.ts";
import type { RunningSystem } from "../systems/types.ts";
import { sleep } from "./stats.ts";

export interface MemoryReading {
  rssBytes: number;
  anonBytes: number;
}

function anonBytes(pid: number): number {
  try {
    const match = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Memory of each connection-holding process after a full GC (then 1 s for the runtime to hand
 * freed pages back), or null when the system has no way to force one.
 */
export async function settledMemory(system: RunningSystem): Promise<Record<string, MemoryReading> | null> {
  if (!system.collectGarbage) return null;
  await system.collectGarbage();
  await sleep(1000);
  return Object.fromEntries(
    Object.entries(system.memoryProcesses()).map(([name, pid]) => [name, { rssBytes: sumRss([pid]), anonBytes: anonBytes(pid) }]),
  );
}

/** Growth of the workerd runtime's settled memory per idle connection, KiB (engine setup; null elsewhere). */
export function settledPerConnectionKiB(s: SystemResult, key: keyof MemoryReading): number | null {
  const settled = s.idle?.settled?.["workerd runtime"];
  return settled && s.idle!.connections > 0 ? (settled.afterIdle[key] - settled.baseline[key]) / s.idle!.connections / 1024 : null;
}

/** The idle table's row: "RSS / RssAnon" growth per connection after a forced GC. */
export const settledRow = {
  metric: "workerd runtime after a forced GC, KiB per connection: RSS / private (RssAnon)",
  better: "none" as const,
  value: (s: SystemResult) => settledPerConnectionKiB(s, "rssBytes"),
  format(s: SystemResult): string | null {
    const [rss, anon] = [settledPerConnectionKiB(s, "rssBytes"), settledPerConnectionKiB(s, "anonBytes")];
    return rss === null || anon === null ? null : `${rss.toFixed(0)} / ${anon.toFixed(0)}`;
  },
};
