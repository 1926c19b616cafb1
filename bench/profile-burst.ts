/**
 * Where a room broadcast's CPU goes (issue 11): starts a system of the engine setup (as
 * bench/profile-connect.ts does), connects `--members` socket.io-client WebSockets, joins them
 * to one room, then profiles a burst of `--messages` `io-to-room` emits from the first member
 * (the bench's burst) through the runtime's inspector, and prints the JavaScript self and
 * inclusive time per function. Not part of `npm run bench` or `npm test`.
 *
 *   node bench/profile-burst.ts [--system edgeio-engine|floor|partyserver] [--members 100] [--messages 300] [--top 40] [--save f.cpuprofile]
 *
 * Shares are counted samples (interval asked: 100 µs), not weighted by time deltas (see
 * profile-connect.ts for why). The sender stays under the per-session packet rate limit by
 * sending in slices of 50 with a pause.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { io, type Socket } from "socket.io-client";
import WebSocket from "ws";
import { commandLine, descendants } from "../test/helpers/proc.ts";
import { CLIENT_OPTIONS } from "./load/client-options.ts";
import { startEngineSystem, type EngineSystemId } from "./systems/engine.ts";

type ProfileNode = { id: number; callFrame: { functionName: string; lineNumber: number }; children?: number[] };
type Profile = { nodes: ProfileNode[]; samples: number[] };

const { values } = parseArgs({
  options: {
    system: { type: "string", default: "edgeio-engine" },
    members: { type: "string", default: "100" },
    messages: { type: "string", default: "300" },
    top: { type: "string", default: "40" },
    save: { type: "string" },
  },
});

/** One DevTools session through wrangler's inspector proxy (the runtime's own takes one session, wrangler's). */
async function openInspector(): Promise<{ send<T>(method: string, params?: object): Promise<T>; close(): void }> {
  const ports = descendants(process.pid)
    .map((child) => /--inspector-port (\d+)/.exec(commandLine(child))?.[1])
    .filter((port) => port !== undefined);
  let url: string | undefined;
  for (const port of ports) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/json/list`, { headers: { origin: "http://127.0.0.1" } });
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
  const waiting = new Map<number, (result: unknown) => void>();
  ws.on("message", (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result);
  });
  return {
    send<T>(method: string, params: object = {}) {
      const id = nextId++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise<T>((resolve) => waiting.set(id, resolve as (result: unknown) => void));
    },
    close: () => ws.close(),
  };
}

function connect(url: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { ...CLIENT_OPTIONS, transports: ["websocket"], reconnection: false, forceNew: true });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

const NOT_JS = /^\((idle|program|garbage collector)\)$/;

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

const system = await startEngineSystem(values.system as EngineSystemId, "worktree");
try {
  const [url] = system.wsUrls;
  const members = Number(values.members);
  const messages = Number(values.messages);
  const sockets = await Promise.all(Array.from({ length: members }, () => connect(url)));
  await Promise.all(sockets.map((socket) => socket.timeout(30_000).emitWithAck("join", "burst")));
  let received = 0;
  const expected = members * messages;
  let allReceived: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allReceived = resolve));
  for (const socket of sockets)
    socket.on("bench", () => {
      if (++received === expected) allReceived();
    });
  const inspector = await openInspector();
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: 100 });
  await inspector.send("Profiler.start");
  const started = performance.now();
  for (let sent = 0; sent < messages; sent++) {
    sockets[0].emit("io-to-room", "burst", "bench", { seq: sent });
    if (sent % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 600));
  }
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 60_000))]);
  const wall = performance.now() - started;
  const { profile } = await inspector.send<{ profile: Profile }>("Profiler.stop");
  inspector.close();
  for (const socket of sockets) socket.disconnect();
  if (values.save) writeFileSync(values.save, JSON.stringify(profile));
  const { js, other, self, inclusive } = aggregate(profile);
  const share = (samples: number) => `${((samples / js) * 100).toFixed(1).padStart(5)} %`;
  console.log(`${received}/${expected} deliveries in ${wall.toFixed(0)} ms (pauses included)`);
  console.log(
    `samples in JavaScript: ${js} (${(js / received).toFixed(3)} per delivery); outside: ${other.map(([l, n]) => `${l} ${n}`).join(", ")}`,
  );
  const top = Number(values.top);
  console.log("\nself time (share of JavaScript):");
  for (const [label, samples] of self.slice(0, top)) console.log(`  ${share(samples)}  ${label}`);
  console.log("\ninclusive time:");
  for (const [label, samples] of inclusive.slice(0, top)) console.log(`  ${share(samples)}  ${label}`);
} finally {
  await system.stop();
}
