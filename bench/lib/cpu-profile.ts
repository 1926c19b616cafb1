/**
 * What the bench's profilers (bench/profile-connect.ts, bench/profile-burst.ts, bench/profile-polling.ts) share: a DevTools
 * session on the workerd runtime through wrangler's inspector proxy, the aggregation of a V8 CPU
 * profile into self and inclusive samples per function, its printout, and a socket.io-client
 * WebSocket connect.
 */
import { writeFileSync } from "node:fs";
import { io, type Socket } from "socket.io-client";
import WebSocket from "ws";
import { commandLine, descendants } from "../../test/helpers/proc.ts";
import { CLIENT_OPTIONS } from "../load/client-options.ts";

type ProfileNode = { id: number; callFrame: { functionName: string; lineNumber: number }; children?: number[] };
export type Profile = { nodes: ProfileNode[]; samples: number[] };

/** Sampling interval asked of V8, µs. */
export const SAMPLE_US = 100;

export interface InspectorSession {
  send<T>(method: string, params?: object): Promise<T>;
  close(): void;
}

/**
 * One DevTools session. The runtime's own inspector takes one session, which wrangler holds:
 * DevTools clients go through wrangler's inspector proxy (`--inspector-port`, a port of the
 * wrangler process, the runtime's parent), which wants an Origin of this machine.
 */
export async function openInspector(): Promise<InspectorSession> {
  const ports = descendants(process.pid)
    .map((child) => /--inspector-port (\d+)/.exec(commandLine(child))?.[1])
    .filter((port) => port !== undefined);
  let url: string | undefined;
  for (const port of ports) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/json/list`, {
        signal: AbortSignal.timeout(2000),
        headers: { origin: "http://127.0.0.1" },
      });
      url = ((await response.json()) as Array<{ webSocketDebuggerUrl: string }>)[0]?.webSocketDebuggerUrl;
      if (url) break;
    } catch {
      // not answering yet
    }
  }
  if (!url) throw new Error("wrangler's inspector proxy lists no target");
  const ws = new WebSocket(url, { headers: { origin: "http://127.0.0.1" } });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  let nextId = 1;
  const waiting = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  ws.on("message", (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: unknown };
    if (message.id === undefined) return;
    const pending = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error) pending?.reject(new Error(JSON.stringify(message.error)));
    else pending?.resolve(message.result);
  });
  return {
    send<T>(method: string, params: object = {}) {
      const id = nextId++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise<T>((resolve, reject) => waiting.set(id, { resolve: resolve as (result: unknown) => void, reject }));
    },
    close: () => ws.close(),
  };
}

const NOT_JS = /^\((idle|program|garbage collector)\)$/;

/**
 * Samples per function, self and inclusive (a function counted once per sample however deep it
 * recurses), and the samples outside JavaScript. Names carry the bundle's line: every module is
 * in one bundle, so the file says little.
 */
export function aggregate(profile: Profile) {
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
    const fn = node.callFrame.functionName;
    if (NOT_JS.test(fn)) {
      other.set(fn, (other.get(fn) ?? 0) + 1);
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

/** Prints the `top` functions by self and by inclusive samples, as shares of the JavaScript samples. */
export function printShares(aggregated: ReturnType<typeof aggregate>, top: number): void {
  const { js, self, inclusive } = aggregated;
  const share = (samples: number) => `${((samples / js) * 100).toFixed(1).padStart(5)} %`;
  console.log("\nself time (share of JavaScript):");
  for (const [label, samples] of self.slice(0, top)) console.log(`  ${share(samples)}  ${label}`);
  console.log("\ninclusive time:");
  for (const [label, samples] of inclusive.slice(0, top)) console.log(`  ${share(samples)}  ${label}`);
}

/** Runs `work` under the runtime's V8 profiler (an inspector session opened for it alone). */
export async function profileWhile<T>(work: () => Promise<T>): Promise<{ result: T; wallMs: number; profile: Profile }> {
  const inspector = await openInspector();
  try {
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: SAMPLE_US });
    await inspector.send("Profiler.start");
    const started = performance.now();
    const result = await work();
    const wallMs = performance.now() - started;
    const { profile } = await inspector.send<{ profile: Profile }>("Profiler.stop");
    return { result, wallMs, profile };
  } finally {
    inspector.close();
  }
}

/**
 * Saves the profile when asked (`save`: a .cpuprofile DevTools opens), then prints the samples
 * in JavaScript, per operation when `per` says how many there were, and the top shares.
 */
export function printProfile(profile: Profile, options: { save?: string; top: number; per?: { count: number; unit: string } }): void {
  if (options.save) writeFileSync(options.save, JSON.stringify(profile));
  const aggregated = aggregate(profile);
  const { js, other } = aggregated;
  const per = options.per ? ` (${(js / options.per.count).toFixed(3)} per ${options.per.unit})` : "";
  console.log(`samples in JavaScript: ${js}${per}; outside: ${other.map(([label, samples]) => `${label} ${samples}`).join(", ")}`);
  printShares(aggregated, options.top);
}

/** One socket.io-client WebSocket connect with the bench's client options (no reconnection). */
export function connectWebSocket(url: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { ...CLIENT_OPTIONS, transports: ["websocket"], reconnection: false, forceNew: true });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}
