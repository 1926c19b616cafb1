/**
 * The "engine" setup: edgeio, the floor and PartyServer on the same workerd that `wrangler dev`
 * starts, with clients sent straight to the runtime's own port (not through wrangler's dev
 * proxy, the second workerd process) and wrangler's local trace collector off
 * (`X_LOCAL_OBSERVABILITY=false`). The runtime's port is found from its listening sockets in
 * /proc and recognised by the bench's counters route (bench/workers/counters.ts). By default
 * the runtime runs each Worker's deploy bundle (deployBundleConfig), not wrangler dev's.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { startService, type RunningService } from "../../test/helpers/service.ts";
import { commandLine, descendants, listeningPorts } from "../../test/helpers/proc.ts";
import { collectGarbage } from "../lib/inspector-gc.ts";
import { WorkCountersSchema, type WorkCounters } from "../lib/work.ts";
import { coloOf, hostStats, PRODUCTION_DEFAULTS, START_TIMEOUT_MS } from "./edgeio.ts";
import { edgeioConfig, type EdgeioApp } from "./edgeio-app.ts";
import { snapshotSources } from "./snapshot.ts";
import type { RunningSystem } from "./types.ts";

export type EngineSystemId = "edgeio-engine" | "floor" | "partyserver";
/** What the runtime runs: the deploy bundle (default) or wrangler dev's own bundle with its dev middleware. */
export type EngineBuild = "deploy" | "dev";

const LABELS: Record<EngineSystemId, string> = {
  "edgeio-engine": "edgeio (engine)",
  floor: "floor: minimal hibernatable-WebSocket DO (engine)",
  partyserver: "PartyServer (engine)",
};

async function startWithoutTraces(config: string, vars: Record<string, string | number>): Promise<RunningService> {
  const previous = process.env.X_LOCAL_OBSERVABILITY;
  process.env.X_LOCAL_OBSERVABILITY = "false";
  try {
    return await startService({ config, vars, readyTimeoutMs: START_TIMEOUT_MS });
  } finally {
    if (previous === undefined) delete process.env.X_LOCAL_OBSERVABILITY;
    else process.env.X_LOCAL_OBSERVABILITY = previous;
  }
}

async function readCounters(url: string, timeoutMs = 30_000): Promise<WorkCounters> {
  const response = await fetch(`${url}/__bench/counters`, { signal: AbortSignal.timeout(timeoutMs) });
  return WorkCountersSchema.parse(await response.json());
}

/** The runtime's entry port: the one of its listening ports that answers the counters route. */
async function runtimeUrl(pid: number): Promise<string> {
  for (const port of listeningPorts(pid)) {
    const url = `http://127.0.0.1:${port}`;
    try {
      await readCounters(url, 5000);
      return url;
    } catch {
      // the inspector or the debug port
    }
  }
  throw new Error(`no port of workerd ${pid} answers /__bench/counters`);
}

/**
 * The Worker as `wrangler deploy` would upload it: `wrangler deploy --dry-run --outdir` bundles
 * it (no network), and a copy of the config runs that bundle with `no_bundle = true`, so
 * wrangler dev neither rebundles it nor wraps it in its dev-only middleware
 * (ensure-req-body-drained, miniflare3-json-error). esbuild's keepNames wrappers stay: deploys
 * have them too (wrangler's `keep_names` defaults to true).
 */
function deployBundleConfig(config: string): string {
  const dir = dirname(config);
  const outdir = join(dir, `deploy-${basename(config, ".toml")}`);
  execFileSync(
    process.execPath,
    [join(dir, "../../node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir, "--config", config],
    { cwd: dir, stdio: "pipe", env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, timeout: 180_000 },
  );
  const bundle = readdirSync(outdir).find((file) => file.endsWith(".js"));
  if (!bundle) throw new Error(`wrangler deploy --dry-run wrote no .js to ${outdir}`);
  const path = join(dir, `${basename(config, ".toml")}.deploy.toml`);
  const main = `main = "${basename(outdir)}/${bundle}"\nno_bundle = true`;
  writeFileSync(path, readFileSync(config, "utf8").replace(/^main\s*=.*$/m, main));
  return path;
}

export async function startEngineSystem(
  id: EngineSystemId,
  source: "worktree" | "head",
  build: EngineBuild = "deploy",
  app: EdgeioApp = "room",
): Promise<RunningSystem> {
  const before = new Set(descendants(process.pid));
  const snapshot = snapshotSources(source);
  let service: RunningService;
  try {
    const entry = app === "room" ? "edgeio-entry.ts" : "echo-entry.ts";
    const config = id === "edgeio-engine" ? edgeioConfig(snapshot, entry) : join(snapshot.dir, "bench/workers/floor.wrangler.toml");
    const run = build === "deploy" ? deployBundleConfig(config) : config;
    service = await startWithoutTraces(run, id === "edgeio-engine" ? PRODUCTION_DEFAULTS : { SYSTEM: id });
  } catch (error) {
    snapshot.remove();
    throw error;
  }
  const workerds = () =>
    descendants(process.pid)
      .filter((pid) => !before.has(pid) && /\/workerd\s/.test(`${commandLine(pid)} `))
      .sort((a, b) => a - b);
  const started = workerds();
  // wrangler dev runs two workerd processes; the runtime is the one with an inspector.
  const runtime = started.find((pid) => commandLine(pid).includes("--inspector-addr"));
  const stop = async () => {
    await service.stop();
    snapshot.remove();
  };
  if (runtime === undefined) {
    await stop();
    throw new Error(`found no workerd runtime among ${started.length} workerd processes`);
  }
  const url = await runtimeUrl(runtime).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  const colo = id === "edgeio-engine" ? await coloOf(url) : "";
  return {
    id,
    label: LABELS[id],
    wsUrls: [url],
    // The floor and PartyServer speak WebSocket only.
    pollingUrls: id === "edgeio-engine" ? [url] : [],
    memoryProcesses: () => ({ "workerd runtime": runtime }),
    cpuPids: () => [runtime],
    auxiliary: () => ({}),
    counters: () => readCounters(url),
    collectGarbage: () => collectGarbage(service.inspectorPort),
    wakeStats: id === "edgeio-engine" ? () => hostStats(url, colo) : undefined,
    async extra() {
      return {
        source: snapshot.source,
        build,
        runtime: { pid: runtime, url, command: commandLine(runtime).slice(0, 200) },
        ...(id === "edgeio-engine" ? { app, colo, vars: PRODUCTION_DEFAULTS } : {}),
      };
    },
    // A replaced workerd (wrangler dev restarts it when a watched file changes) ends the pid it had; workerds of
    // the other engine systems, started after this one and running beside it (bench/rounds.ts), are not a restart.
    restarted: () => {
      const now = new Set(workerds());
      return started.some((pid) => !now.has(pid));
    },
    stop,
  };
}
