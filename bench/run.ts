/**
 * `npm run bench`: starts each system in turn on this machine (the engine setup: edgeio, the
 * floor and PartyServer on workerd with clients straight to the runtime; edgeio under wrangler
 * dev; Socket.IO in one process, Socket.IO + Redis adapter in two), drives the same scenarios
 * against each with forked load-generator processes, and writes bench/results/.
 * Systems run one after another, never at the same time, so they do not compete for the CPU.
 */
import { execSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem, release, type } from "node:os";
import { resolve } from "node:path";
import { parseOptions, type BenchOptions, type StartableSystem } from "./lib/options.ts";
import { descendants } from "../test/helpers/proc.ts";
import { LoadPool } from "./load/pool.ts";
import { writeReports, type BenchResults, type MachineInfo, type SystemResult } from "./report.ts";
import { reconnectStorm } from "./reconnect-storm.ts";
import { benchInterleaved, benchOne, type BenchContext } from "./rounds.ts";
import { countingSelfCheck } from "./counting-check.ts";
import { selfCheck, type SelfCheckResult } from "./self-check.ts";
import { startEdgeio } from "./systems/edgeio.ts";
import { startEngineSystem } from "./systems/engine.ts";
import { startSocketioRedis } from "./systems/socketio-redis.ts";
import { startSocketioSingle } from "./systems/socketio-single.ts";
import type { RunningSystem } from "./systems/types.ts";

const ROOT = resolve(import.meta.dirname, "..");

const starters: Record<StartableSystem, (options: BenchOptions) => Promise<RunningSystem>> = {
  "edgeio-engine": (options) => startEngineSystem("edgeio-engine", options.edgeioSource, options.engineBuild, options.edgeioApp),
  floor: (options) => startEngineSystem("floor", options.edgeioSource, options.engineBuild),
  partyserver: (options) => startEngineSystem("partyserver", options.edgeioSource, options.engineBuild),
  edgeio: (options) => startEdgeio(options.edgeioSource, options.edgeioApp),
  "socketio-single": () => startSocketioSingle(),
  "socketio-redis": startSocketioRedis,
};

const ENGINE_SYSTEMS: StartableSystem[] = ["edgeio-engine", "floor", "partyserver"];

const log = (message: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

/** Processes not started by this benchmark that are using CPU right now (the machine may be shared). */
function otherBusyProcesses(): string[] {
  const ours = new Set([process.pid, ...descendants(process.pid)]);
  try {
    // ps %cpu is the lifetime average; sample top once instead for the current picture.
    const out = execSync("top -b -n 2 -d 1 -w 200 | awk '/^top -/{n++} n==2' | tail -n +8", { encoding: "utf8" });
    return out
      .split("\n")
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f.length >= 12 && Number(f[8]) >= 5 && !ours.has(Number(f[0])))
      .slice(0, 8)
      .map((f) => `${f.slice(11).join(" ")} (pid ${f[0]}, ${f[8]} % CPU)`);
  } catch {
    return [];
  }
}

function machineInfo(): MachineInfo {
  return {
    nproc: Number(execSync("nproc", { encoding: "utf8" }).trim()),
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryTotalBytes: totalmem(),
    node: process.version,
    os: `${type()} ${release()}`,
    loadAverageAtStart: loadavg(),
    loadAverageAtEnd: [],
    otherBusyProcesses: otherBusyProcesses(),
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv, process.env);
  const startedAt = new Date();
  const machine = machineInfo();
  const command = `npm run bench${argv.length ? ` -- ${argv.join(" ")}` : ""}`;
  log(`${command} (${machine.nproc} cores, Node ${machine.node})`);
  if (options.storm) return stormOnly(options, command, machine);

  const pool = new LoadPool(options.loadWorkers);
  const systems: SystemResult[] = [];
  let check: SelfCheckResult = { passed: false, checks: [] };
  const stopAll = () => pool.stop();
  const ctx: BenchContext = { options, pool, log, starters, running: new Set() };
  process.once("SIGINT", () => {
    stopAll();
    void Promise.allSettled([...ctx.running].map((system) => system.stop())).finally(() => process.exit(130));
  });
  try {
    await pool.start();
    // Every run first proves that it would notice lost and duplicated deliveries.
    log("self-check: broadcasting through a server that drops and duplicates on purpose");
    check = await selfCheck(pool, options);
    for (const line of check.checks) log(`  ${line}`);
    log(check.passed ? "self-check passed" : "self-check FAILED: the figures below cannot be trusted");
    if (options.selfCheck) {
      log("counting self-check: the floor's work is known exactly");
      const counting = await countingSelfCheck(pool, options);
      for (const line of counting.checks) log(`  ${line}`);
      log(counting.passed ? "counting self-check passed" : "counting self-check FAILED");
      process.exitCode = check.passed && counting.passed ? 0 : 1;
      return;
    }
    // The engine setup's systems run together in interleaved rounds (bench/rounds.ts); the others one at a time.
    const engine = options.systems.filter((id) => ENGINE_SYSTEMS.includes(id));
    if (engine.length > 0) systems.push(...(await benchInterleaved(ctx, engine)));
    for (const id of options.systems.filter((id) => !ENGINE_SYSTEMS.includes(id))) systems.push(...(await benchOne(ctx, id)));
  } finally {
    stopAll();
  }
  machine.loadAverageAtEnd = loadavg();
  const finishedAt = new Date();
  const results: BenchResults = {
    command,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationS: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    machine,
    options,
    selfCheck: check,
    systems,
  };
  const written = writeReports(results, resolve(ROOT, options.out), options.dated);
  log(`wrote ${written.join(", ")}`);
}

/**
 * `--storm`: only the reconnect storm after a simulated deploy, written to its own JSON file:
 * with the echo example's pool of 4 hosts (most sockets come back through another host), and with one.
 */
async function stormOnly(options: BenchOptions, command: string, machine: MachineInfo): Promise<void> {
  const runs = [];
  for (const hostPool of [4, 1]) {
    log(`reconnect storm: ${options.stormSockets} sockets, ${hostPool} host(s)`);
    const storm = await reconnectStorm(options.stormSockets, hostPool, log);
    log(JSON.stringify(storm));
    runs.push(storm);
  }
  machine.loadAverageAtEnd = loadavg();
  const out = resolve(ROOT, options.out);
  mkdirSync(out, { recursive: true });
  const file = resolve(out, options.quick ? "reconnect-storm-quick.json" : "reconnect-storm.json");
  writeFileSync(file, `${JSON.stringify({ command, finishedAt: new Date().toISOString(), machine, runs }, null, 2)}\n`);
  log(`wrote ${file}`);
  // Cross-host resumes are lossless too since the two-phase hand-over (docs/recovery.md): any loss fails the run.
  if (runs.some((storm) => storm.duplicates > 0 || storm.notBack > 0 || storm.lost > 0)) process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
