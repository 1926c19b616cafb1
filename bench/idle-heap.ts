/**
 * What idle WebSockets hold in edgeio's JavaScript heap (issue 11, docs/benchmarks.md "Runtime
 * memory per idle WebSocket"): starts the echo app under `wrangler dev`, takes a heap snapshot
 * of the Worker's isolate through wrangler's inspector (after a forced GC), connects N
 * socket.io-client WebSockets straight to the runtime, waits, takes another, and prints the
 * difference by node type and constructor, largest first, with the runtime's RSS.
 *
 *   node bench/idle-heap.ts [sockets=500] [idleSeconds=10]
 *
 * idleSeconds 0 shows what a host that has not hibernated yet holds per socket.
 */
import { readFileSync } from "node:fs";
import { io, type Socket } from "socket.io-client";
import WebSocket from "ws";
import { z } from "zod";
import { commandLine, descendants } from "../test/helpers/proc.ts";
import { startService } from "../test/helpers/service.ts";
import { CLIENT_OPTIONS } from "./load/client-options.ts";
import { sleep } from "./lib/stats.ts";
import { PRODUCTION_DEFAULTS, START_TIMEOUT_MS } from "./systems/edgeio.ts";

const SnapshotSchema = z.object({
  snapshot: z.object({ meta: z.object({ node_fields: z.array(z.string()), node_types: z.array(z.unknown()) }) }),
  nodes: z.array(z.number()),
  strings: z.array(z.string()),
});
type Totals = Map<string, { count: number; bytes: number }>;

/** One inspector session: a forced GC, then a heap snapshot summed by node type and name. */
async function heapByConstructor(inspectorPort: number): Promise<Totals> {
  const list = z
    .array(z.object({ webSocketDebuggerUrl: z.string() }))
    .parse(await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json());
  const ws = new WebSocket(list[0].webSocketDebuggerUrl, { maxPayload: 2 ** 30 });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  const chunks: string[] = [];
  let next = 0;
  const waiting = new Map<number, () => void>();
  ws.on("message", (data) => {
    const message = JSON.parse(String(data)) as { id?: number; method?: string; params?: { chunk: string } };
    if (message.method === "HeapProfiler.addHeapSnapshotChunk") chunks.push(message.params!.chunk);
    if (message.id !== undefined) waiting.get(message.id)?.();
  });
  const call = (method: string) =>
    new Promise<void>((resolve) => {
      waiting.set(++next, resolve);
      ws.send(JSON.stringify({ id: next, method }));
    });
  await call("HeapProfiler.collectGarbage");
  await call("HeapProfiler.takeHeapSnapshot");
  ws.close();
  const snapshot = SnapshotSchema.parse(JSON.parse(chunks.join("")));
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0] as string[];
  const [type, name, size] = ["type", "name", "self_size"].map((field) => fields.indexOf(field));
  const totals: Totals = new Map();
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const kind = types[snapshot.nodes[i + type]];
    // Strings and numbers are summed by kind (their "name" is their content).
    const key = /string|number/.test(kind) ? kind : `${kind}: ${snapshot.strings[snapshot.nodes[i + name]].slice(0, 50)}`;
    const entry = totals.get(key) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += snapshot.nodes[i + size];
    totals.set(key, entry);
  }
  return totals;
}

async function connect(url: string, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 25) {
    const batch = Array.from({ length: Math.min(25, count - i) }, () => {
      const socket = io(url, { ...CLIENT_OPTIONS, transports: ["websocket"], reconnection: false, forceNew: true });
      sockets.push(socket);
      return new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("connect_error", reject));
    });
    await Promise.all(batch);
  }
  return sockets;
}

const [count, idleSeconds] = [Number(process.argv[2] ?? 500), Number(process.argv[3] ?? 10)];
const service = await startService({ vars: PRODUCTION_DEFAULTS, readyTimeoutMs: START_TIMEOUT_MS });
try {
  const url = await service.runtimeUrl();
  const runtime = descendants(process.pid).find((pid) => commandLine(pid).includes("--inspector-addr"));
  const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${runtime}/status`, "utf8"))?.[1] ?? 0);
  for (const socket of await connect(url, 20)) socket.close(); // every host instantiated, code compiled
  await sleep(3000);
  const [before, rssBefore] = [await heapByConstructor(service.inspectorPort), rssKiB()];
  const sockets = await connect(url, count);
  await sleep(idleSeconds * 1000);
  const [after, rssAfter] = [await heapByConstructor(service.inspectorPort), rssKiB()];
  const sum = (totals: Totals) => [...totals.values()].reduce((total, entry) => total + entry.bytes, 0);
  console.log(
    `${count} sockets, ${idleSeconds} s idle: runtime RSS +${((rssAfter - rssBefore) / count).toFixed(1)} KiB per socket (taking snapshots inflates it)`,
  );
  console.log(`heap after GC: +${((sum(after) - sum(before)) / count).toFixed(0)} bytes per socket`);
  const rows = [...after].map(([key, entry]) => {
    const base = before.get(key) ?? { count: 0, bytes: 0 };
    return { key, count: entry.count - base.count, bytes: entry.bytes - base.bytes };
  });
  console.log("bytes/socket  objects  type: constructor");
  for (const row of rows.sort((a, b) => b.bytes - a.bytes).slice(0, 25)) {
    console.log(`${(row.bytes / count).toFixed(0).padStart(12)}  ${String(row.count).padStart(7)}  ${row.key}`);
  }
  for (const socket of sockets) socket.close();
} finally {
  await service.stop();
}
