/**
 * Starts the real service the way the README does (`wrangler dev`), on a free port with a
 * fresh local state directory (or a given port and directory, to restart it), and stops it afterwards. Used by the end-to-end tests and
 * the benchmarks; `vars` override wrangler.toml [vars] (e.g. faster heartbeats for tests).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { commandLine, descendants, listeningPorts } from "./proc.ts";

export interface RunningService {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Everything wrangler printed so far (for diagnosing a failure). */
  output(): string;
  /** The local state directory (`--persist-to`): Durable Object storage lives under it. */
  stateDir: string;
  /** wrangler's inspector port (Chrome DevTools Protocol to the Worker's isolates; the benchmarks force a GC through it). */
  inspectorPort: number;
  /**
   * The runtime's own address, past wrangler's dev proxy (the second workerd in front of the
   * Worker): for clients that must not depend on the proxy, e.g. while the proxy is attacked.
   */
  runtimeUrl(): Promise<string>;
}

export interface ServiceOptions {
  /** wrangler config to start; defaults to the echo example app. */
  config?: string;
  vars?: Record<string, string | number>;
  /**
   * ENVIRONMENT passed with `--var`, like `npm run dev` does (default "development").
   * `null` leaves it unset, as a deployment does: the service then runs as production.
   */
  environment?: "development" | "test" | "production" | null;
  port?: number;
  /**
   * Use this local state directory (`--persist-to`) instead of a fresh one, and keep it on
   * stop(): a second service started on it (and on the same `port`) is a restart.
   */
  stateDir?: string;
  /** How long to wait for "Ready on" (default 60 s; the benchmarks allow more on a loaded machine). */
  readyTimeoutMs?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("no port"))));
    });
  });
}

const ROOT = resolve(import.meta.dirname, "../..");

/**
 * A free port is only free until someone binds it: with many services starting at once, another
 * may take it between `freePort()` and wrangler's bind. Ports chosen here are then chosen again.
 */
export async function startService(options: ServiceOptions = {}): Promise<RunningService> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServiceOnce(options);
    } catch (error) {
      const message = String(error);
      // A port the caller fixed is not changed; the inspector port is always chosen here.
      const chosenPortTaken =
        /Address already in use/.test(message) && (options.port === undefined || !message.includes(`:${options.port})`));
      if (!chosenPortTaken || attempt >= 3) throw error;
    }
  }
}

async function startServiceOnce(options: ServiceOptions): Promise<RunningService> {
  const port = options.port ?? (await freePort());
  const inspectorPort = await freePort();
  const state = options.stateDir ?? mkdtempSync(join(tmpdir(), "edgeio-state-"));
  // A directory the caller gave is the caller's: never deleted here.
  const removeState = () => {
    if (options.stateDir === undefined) rmSync(state, { recursive: true, force: true });
  };
  const config = resolve(ROOT, options.config ?? "examples/echo/wrangler.toml");
  const args = [
    resolve(ROOT, "node_modules/wrangler/bin/wrangler.js"),
    "dev",
    "--config",
    config,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    state,
    "--show-interactive-dev-session=false",
    "--log-level",
    "info",
  ];
  const environment = options.environment === undefined ? "development" : options.environment;
  if (environment !== null) args.push("--var", `ENVIRONMENT:${environment}`);
  for (const [key, value] of Object.entries(options.vars ?? {})) args.push("--var", `${key}:${value}`);

  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const ready = new Promise<void>((resolveReady, reject) => {
    const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
    const timer = setTimeout(
      () => reject(new Error(`wrangler dev did not start in ${readyTimeoutMs / 1000}s:\n${output}`)),
      readyTimeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Ready on/.test(output)) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`wrangler dev exited with ${code}:\n${output}`));
    });
  });
  // A wrangler that did not become ready is stopped, not left running.
  await ready.catch((error: unknown) => {
    child.kill("SIGTERM");
    removeState();
    throw error;
  });
  const url = `http://127.0.0.1:${port}`;
  // The first request compiles and boots the Worker; wait for it to answer.
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const response = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
      await response.arrayBuffer();
      // Any answer from the Worker means it is up (a misconfigured one answers 500 on purpose).
      if (response.status === 200 || response.status === 500) break;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    stateDir: state,
    inspectorPort,
    output: () => output,
    runtimeUrl: () => findRuntimeUrl(child.pid!),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      removeState();
    },
  };
}

/** wrangler dev runs two workerd processes; the runtime is the one with an inspector, and its entry port answers a handshake. */
async function findRuntimeUrl(wranglerPid: number): Promise<string> {
  const runtime = descendants(wranglerPid).find(
    (pid) => /\/workerd\s/.test(`${commandLine(pid)} `) && commandLine(pid).includes("--inspector-addr"),
  );
  if (runtime === undefined) throw new Error(`no workerd runtime below wrangler ${wranglerPid}`);
  for (const port of listeningPorts(runtime)) {
    const url = `http://127.0.0.1:${port}`;
    try {
      const response = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(5000) });
      const body = await response.text();
      if (response.status === 200 && body.startsWith("0{")) return url;
    } catch {
      // the inspector or the debug port
    }
  }
  throw new Error(`no port of workerd ${runtime} answers an Engine.IO handshake`);
}
