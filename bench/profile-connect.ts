/**
 * Where a WebSocket connect's CPU goes (issue 11): starts a system of the engine setup (the
 * echo example behind the bench's counters, or the floor), attaches to the workerd runtime's
 * inspector (Chrome DevTools Protocol), profiles a storm of socket.io-client connects and
 * prints the self time per function and per file. Not part of `npm run bench` or `npm test`.
 *
 *   node bench/profile-connect.ts [--system edgeio-engine|floor] [--clients 300] [--top 40] [--save /tmp/connect.cpuprofile]
 *
 * It attaches through wrangler's inspector proxy (the runtime's own inspector takes one session,
 * which wrangler holds). Shares are of the samples taken in JavaScript (interval asked: 100 µs),
 * counted, not weighted by the samples' time deltas: on a shared machine a descheduled runtime
 * makes single deltas long, and the runtime blocked in a storage commit shows as "(program)".
 * It also times 50 connects made one at a time (latency without queueing: round trips and
 * storage commits), before the profiled storm.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { io, type Socket } from "socket.io-client";
import { commandLine, descendants } from "../test/helpers/proc.ts";
import { CLIENT_OPTIONS } from "./load/client-options.ts";
import { startEngineSystem, type EngineSystemId } from "./systems/engine.ts";

type ProfileNode = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] };
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

const { values } = parseArgs({
  options: {
    system: { type: "string", default: "edgeio-engine" },
    clients: { type: "string", default: "300" },
    top: { type: "string", default: "40" },
    save: { type: "string" },
  },
});

class Inspector {
  private nextId = 1;
  private readonly waiting = new Map<number, (result: unknown) => void>();
  private readonly ws: WebSocket;
  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: unknown };
      if (message.id === undefined) return;
      this.waiting.get(message.id)?.(message.error ? Promise.reject(new Error(JSON.stringify(message.error))) : message.result);
      this.waiting.delete(message.id);
    });
  }

  static async open(): Promise<Inspector> {
    let targets: Array<{ webSocketDebuggerUrl: string }> = [];
    // The runtime's own inspector takes one session, which wrangler holds: DevTools clients go through
    // wrangler's inspector proxy (`--inspector-port`, a port of the wrangler process, the runtime's parent).
    const ports = descendants(process.pid)
      .map((child) => /--inspector-port (\d+)/.exec(commandLine(child))?.[1])
      .filter((port) => port !== undefined)
      .map(Number);
    for (const port of ports) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/json/list`, {
          signal: AbortSignal.timeout(2000),
          headers: { origin: "http://127.0.0.1" },
        });
        targets = (await response.json()) as typeof targets;
        if (Array.isArray(targets) && targets.length > 0) break;
      } catch {
        // not answering yet
      }
    }
    if (targets.length === 0) throw new Error("wrangler's inspector proxy lists no target");
    // The proxy wants an Origin of this machine (Node's WebSocket takes headers as undici's extension).
    const ws = new WebSocket(targets[0].webSocketDebuggerUrl, { headers: { origin: "http://127.0.0.1" } } as never);
    await new Promise((resolve, reject) => {
      ws.addEventListener("open", resolve, { once: true });
      ws.addEventListener("error", reject, { once: true });
    });
    return new Inspector(ws);
  }

  send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve) => this.waiting.set(id, resolve as (result: unknown) => void));
  }

  close(): void {
    this.ws.close();
  }
}

function connectAll(url: string, count: number): Promise<Socket[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = io(url, { ...CLIENT_OPTIONS, transports: ["websocket"], reconnection: false, forceNew: true });
          socket.once("connect", () => resolve(socket));
          socket.once("connect_error", reject);
        }),
    ),
  );
}

const SAMPLE_US = 100;
const NOT_JS = /^\((idle|program|garbage collector)\)$/;

/**
 * Samples per function, self and inclusive (a function counted once per sample however deep it
 * recurses), and the samples outside JavaScript. Names carry the bundle's line: every module is
 * in one bundle, so the file says little.
 */
function aggregate(profile: Profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const name = (node: ProfileNode) => `${node.callFrame.functionName || "(anonymous)"}:${node.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const other = new Map<string, number>();
  let js = 0;
  for (const id of profile.samples) {
    const node = byId.get(id);
    if (!node) continue;
    if (NOT_JS.test(node.callFrame.functionName)) {
      other.set(node.callFrame.functionName, (other.get(node.callFrame.functionName) ?? 0) + 1);
      continue;
    }
    js += 1;
    self.set(name(node), (self.get(name(node)) ?? 0) + 1);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = name(byId.get(at)!);
      if (!seen.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + 1);
      seen.add(key);
    }
  }
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return { js, other: sorted(other), self: sorted(self), inclusive: sorted(inclusive) };
}

const system = await startEngineSystem(values.system as EngineSystemId, "worktree");
try {
  const [url] = system.wsUrls;
  const clients = Number(values.clients);
  // Warm up: every host of the pool instantiated, code compiled.
  for (const socket of await connectAll(url, 24)) socket.disconnect();
  // One at a time: each connect's latency without queueing behind the others (round trips, storage commits).
  const latencies: number[] = [];
  for (let i = 0; i < 50; i++) {
    const start = performance.now();
    const [socket] = await connectAll(url, 1);
    latencies.push(performance.now() - start);
    socket.disconnect();
  }
  latencies.sort((a, b) => a - b);
  console.log(`sequential connects: p50 ${latencies[25].toFixed(1)} ms, p90 ${latencies[45].toFixed(1)} ms`);
  const inspector = await Inspector.open();
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: SAMPLE_US });
  await inspector.send("Profiler.start");
  const started = performance.now();
  const sockets = await connectAll(url, clients);
  const wall = performance.now() - started;
  const { profile } = await inspector.send<{ profile: Profile }>("Profiler.stop");
  for (const socket of sockets) socket.disconnect();
  inspector.close();
  if (values.save) writeFileSync(values.save, JSON.stringify(profile));
  const { js, other, self, inclusive } = aggregate(profile);
  const share = (samples: number) => `${((samples / js) * 100).toFixed(1).padStart(5)} %`;
  console.log(`${clients} connects in ${wall.toFixed(0)} ms (${((clients / wall) * 1000).toFixed(0)}/s)`);
  console.log(`samples in JavaScript: ${js}; outside: ${other.map(([label, samples]) => `${label} ${samples}`).join(", ")}`);
  const top = Number(values.top);
  console.log("\nself time (share of JavaScript):");
  for (const [label, samples] of self.slice(0, top)) console.log(`  ${share(samples)}  ${label}`);
  console.log("\ninclusive time:");
  for (const [label, samples] of inclusive.slice(0, top)) console.log(`  ${share(samples)}  ${label}`);
} finally {
  await system.stop();
}
