/**
 * A load-generator process (forked by bench/load/pool.ts). It owns a share of the benchmark's
 * socket.io-client connections, identified by global client indices, and answers commands over
 * IPC. Running several of these keeps client work off the orchestrator and lets the harness
 * report the load generators' own CPU use.
 */
import { io, type Socket } from "socket.io-client";
import { nowMs, sleep } from "../lib/stats.ts";
import { CLIENT_OPTIONS } from "./client-options.ts";
import {
  RequestSchema,
  type Command,
  type CollectResult,
  type ConnectResult,
  type Failures,
  type PollingOpenResult,
  type PollingResult,
} from "./protocol.ts";

const BenchMessage = (value: unknown): { run: string; seq: number; t: number } | null => {
  if (typeof value !== "object" || value === null) return null;
  const { run, seq, t } = value as Record<string, unknown>;
  return typeof run === "string" && typeof seq === "number" && typeof t === "number" ? { run, seq, t } : null;
};

const sockets = new Map<number, Socket>();

/** State of the broadcast run being measured (one at a time). */
let current: {
  run: string;
  messages: number;
  counts: Map<number, Uint16Array>;
  received: number;
  duplicates: number;
  stray: number;
  latencies: number[];
  lastAt: number | null;
} | null = null;
let strayOutsideRuns = 0;

function onBench(index: number, payload: unknown): void {
  const at = nowMs();
  const message = BenchMessage(payload);
  if (!current || !message || message.run !== current.run) {
    strayOutsideRuns++;
    return;
  }
  const counts = current.counts.get(index);
  if (!counts || message.seq < 0 || message.seq >= current.messages) {
    current.stray++;
    return;
  }
  current.received++;
  current.lastAt = at;
  counts[message.seq]++;
  if (counts[message.seq] === 1) current.latencies.push(at - message.t);
  else current.duplicates++;
}

interface FailureSnapshot {
  sessionUnknown: boolean;
  key: string;
}

/**
 * Recognises the error Socket.IO sends when a request reaches a process that does not know the
 * session. Must run synchronously inside the error listener: engine.io-client aborts the failed
 * XHR right after emitting, which clears its responseText.
 */
function snapshot(error: unknown): FailureSnapshot {
  const e = error as { message?: string; description?: unknown; context?: { responseText?: unknown; status?: unknown } };
  const body = typeof e?.context?.responseText === "string" ? e.context.responseText : "";
  const sessionUnknown = (e?.description === 400 || e?.context?.status === 400) && body.includes("Session ID unknown");
  return { sessionUnknown, key: `${e?.message ?? String(error)}${typeof e?.description === "number" ? ` (${e.description})` : ""}` };
}

function classify(failure: unknown, failures: Failures): void {
  const f = failure as Partial<FailureSnapshot>;
  if (typeof f?.key !== "string") {
    classify(snapshot(failure), failures);
    return;
  }
  if (f.sessionUnknown) failures.sessionUnknown++;
  else failures.other[f.key] = (failures.other[f.key] ?? 0) + 1;
}

function open(url: string, transports: Array<"polling" | "websocket">, timeoutMs: number): Socket {
  return io(url, { ...CLIENT_OPTIONS, transports, reconnection: false, forceNew: true, timeout: timeoutMs });
}

function connectOne(url: string, transports: Array<"polling" | "websocket">, timeoutMs: number): Promise<Socket> {
  const socket = open(url, transports, timeoutMs);
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error) => {
      const failure = snapshot(error);
      socket.close();
      reject(failure);
    });
  });
}

const urlFor = (urls: string[], index: number, stride: number) => urls[Math.floor(index / stride) % urls.length];

/** Runs `task` over `items` with at most `limit` in flight. */
async function pooled<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await task(items[next++]);
  });
  await Promise.all(lanes);
}

async function connect(command: Extract<Command, { op: "connect" }>): Promise<ConnectResult> {
  const failures: Failures = { sessionUnknown: 0, other: {} };
  const durationsMs: number[] = [];
  let ok = 0;
  const startedAt = nowMs();
  await pooled(command.indices, command.concurrency, async (index) => {
    const url = urlFor(command.urls, index, command.stride);
    const begin = nowMs();
    try {
      const socket = await connectOne(url, command.transports, command.timeoutMs);
      durationsMs.push(nowMs() - begin);
      socket.on("bench", (payload: unknown) => onBench(index, payload));
      sockets.set(index, socket);
      ok++;
    } catch (error) {
      classify(error, failures);
    }
  });
  return { ok, failed: command.indices.length - ok, failures, durationsMs, startedAt, finishedAt: nowMs() };
}

async function join(room: string, indices: number[]) {
  let ok = 0;
  await Promise.all(
    indices.map(async (index) => {
      const socket = sockets.get(index);
      if (!socket) return;
      try {
        await socket.timeout(30_000).emitWithAck("join", room);
        ok++;
      } catch {
        // counted as failed below
      }
    }),
  );
  return { ok, failed: indices.length - ok };
}

async function send(command: Extract<Command, { op: "send" }>) {
  const socket = sockets.get(command.index);
  if (!socket) throw new Error(`client ${command.index} is not connected in this worker`);
  const firstAt = nowMs();
  for (let seq = 0; seq < command.messages; seq++) {
    // A fixed schedule (not sleep-after-send) so slow emits do not lower the offered rate.
    const due = firstAt + seq * command.intervalMs;
    const wait = due - nowMs();
    if (wait > 1) await sleep(wait);
    socket.emit("io-to-room", command.room, "bench", { run: command.run, seq, t: nowMs() });
  }
  return { firstAt, lastAt: nowMs(), sent: command.messages };
}

function collect(run: string): CollectResult {
  if (!current || current.run !== run) throw new Error(`no run ${run}`);
  let unique = 0;
  let lost = 0;
  for (const counts of current.counts.values()) {
    for (const n of counts) {
      if (n > 0) unique++;
      else lost++;
    }
  }
  const result: CollectResult = {
    members: current.counts.size,
    delivered: current.received,
    unique,
    duplicates: current.duplicates,
    lost,
    stray: current.stray + strayOutsideRuns,
    latenciesMs: current.latencies,
    lastAt: current.lastAt,
  };
  strayOutsideRuns = 0;
  current = null;
  return result;
}

/** Open long-polling clients, each with a flag set when it dropped. */
const pollingSockets = new Map<number, { socket: Socket; dropped: boolean }>();
let pollingFailures: Failures = { sessionUnknown: 0, other: {} };
let pollingDisconnects = 0;

async function pollingOpen(command: Extract<Command, { op: "pollingOpen" }>): Promise<PollingOpenResult> {
  pollingFailures = { sessionUnknown: 0, other: {} };
  pollingDisconnects = 0;
  await Promise.all(
    command.indices.map(async (index) => {
      let socket: Socket;
      try {
        socket = await connectOne(urlFor(command.urls, index, command.stride), ["polling"], command.timeoutMs);
      } catch (error) {
        classify(error, pollingFailures);
        return;
      }
      const entry = { socket, dropped: false };
      pollingSockets.set(index, entry);
      socket.on("disconnect", (reason, details) => {
        if (reason === "io client disconnect") return;
        entry.dropped = true;
        pollingDisconnects++;
        if (details) classify(details, pollingFailures);
      });
    }),
  );
  const failures = pollingFailures;
  // From here on, failures belong to the rounds (each is reported once).
  pollingFailures = { sessionUnknown: 0, other: {} };
  return { attempted: command.indices.length, connected: pollingSockets.size, failures };
}

async function pollingRounds(command: Extract<Command, { op: "pollingRounds" }>): Promise<PollingResult> {
  const rttsMs: number[] = [];
  let completed = 0;
  let ackTimeouts = 0;
  await Promise.all(
    [...pollingSockets.values()].map(async (entry) => {
      let allAcked = true;
      for (let round = 0; round < command.rounds && !entry.dropped; round++) {
        const begin = nowMs();
        try {
          // emitWithAck resolves with the first acknowledgement argument.
          const echoed: unknown = await entry.socket.timeout(command.timeoutMs).emitWithAck("echo", round);
          if (echoed !== round) throw new Error(`wrong echo ${String(echoed)} for ${round}`);
          rttsMs.push(nowMs() - begin);
        } catch {
          ackTimeouts++;
          allAcked = false;
        }
      }
      if (allAcked && !entry.dropped) completed++;
    }),
  );
  // Closed by closeAll, outside the measured rounds.
  return { completed, failures: pollingFailures, ackTimeouts, disconnects: pollingDisconnects, rttsMs };
}

async function handle(command: Command): Promise<unknown> {
  switch (command.op) {
    case "connect":
      return connect(command);
    case "join":
      return join(command.room, command.indices);
    case "expect": {
      const counts = new Map<number, Uint16Array>();
      for (const index of command.indices) if (sockets.has(index)) counts.set(index, new Uint16Array(command.messages));
      current = { run: command.run, messages: command.messages, counts, received: 0, duplicates: 0, stray: 0, latencies: [], lastAt: null };
      return { members: counts.size };
    }
    case "send":
      return send(command);
    case "progress":
      // Unique (member, seq) pairs, so duplicates cannot make a run look complete.
      return { received: current?.run === command.run ? current.latencies.length : 0 };
    case "collect":
      return collect(command.run);
    case "pollingOpen":
      return pollingOpen(command);
    case "pollingRounds":
      return pollingRounds(command);
    case "closeAll": {
      for (const socket of sockets.values()) socket.close();
      sockets.clear();
      for (const entry of pollingSockets.values()) entry.socket.close();
      pollingSockets.clear();
      return {};
    }
    case "cpu":
      return process.cpuUsage();
  }
}

process.on("message", (raw) => {
  const request = RequestSchema.safeParse(raw);
  if (!request.success) {
    process.send?.({ id: -1, ok: false, error: `bad command: ${request.error.message}` });
    return;
  }
  const { id, command } = request.data;
  handle(command).then(
    (result) => process.send?.({ id, ok: true, result }),
    (error: unknown) => process.send?.({ id, ok: false, error: error instanceof Error ? error.message : String(error) }),
  );
});
process.on("disconnect", () => process.exit(0));
process.send?.({ id: 0, ok: true, result: "ready" });
