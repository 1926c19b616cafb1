/**
 * A/B of the room-of-100 paced latency (issue 11): the last commit ("head"), the files as they
 * are ("worktree") and, with `--floor`, the floor, each in its own runtime (engine setup, the
 * bench's room app, HOST_POOL_SIZE 4), each with `--clients` socket.io-client WebSockets (spread
 * over the host pool as the bench's are) of which `--members` join one room. The systems are
 * measured at the same time, so that the load of a shared machine weighs on them alike: in a
 * batch each system's sender (a member) sends `--messages` broadcasts (`io-to-room`) at
 * `--rate`/s, the systems' sends interleaved evenly within each interval (the order rotates
 * each batch, and so does the sender: its host decides which hosts are remote). Every
 * delivery's emit → member latency is taken; prints each batch's p50/p90 per system (for edgeio
 * also the p50 of the members on the sender's own host, reached by local sends, and of the
 * others, reached by RPC) and the median of the paired p50 ratios.
 *
 *   node bench/ab-paced.ts [--clients 200] [--members 100] [--messages 100] [--rate 10] [--batches 8] [--floor]
 *
 * The clients live in two forked processes of this script (`--child`), as the bench's load
 * generators. A/A runs (no change) came out 1.04 and 0.95 worktree/head over 10–12 batches (paired
 * batches differ by up to ±10 %; batches minutes apart, by ±40 %): a difference of a few % needs the
 * swapped run too (commit the candidate, put the old files in the worktree) before it means
 * anything.
 */
import { fork, type ChildProcess } from "node:child_process";
import { parseArgs } from "node:util";
import { io, type Socket } from "socket.io-client";
import { z } from "zod";
import { median, nowMs, percentile, sleep } from "./lib/stats.ts";
import { CLIENT_OPTIONS } from "./load/client-options.ts";

const { values } = parseArgs({
  options: {
    child: { type: "boolean", default: false },
    clients: { type: "string", default: "200" },
    members: { type: "string", default: "100" },
    messages: { type: "string", default: "100" },
    rate: { type: "string", default: "10" },
    batches: { type: "string", default: "8" },
    floor: { type: "boolean", default: false },
  },
});

/** Orchestrator → client process. */
const CommandSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("connect"), system: z.string(), url: z.string().url(), indices: z.array(z.number().int().nonnegative()) }),
  z.object({ op: z.literal("join"), system: z.string(), room: z.string(), indices: z.array(z.number().int().nonnegative()) }),
  /** Sends `messages` broadcasts from one client, the first at `firstAt` (epoch ms), then every `intervalMs`. */
  z.object({
    op: z.literal("send"),
    system: z.string(),
    index: z.number().int().nonnegative(),
    room: z.string(),
    run: z.string(),
    messages: z.number().int().positive(),
    firstAt: z.number(),
    intervalMs: z.number().positive(),
  }),
  /** This process's latencies of `run`, by system (and forgets them). */
  z.object({ op: z.literal("collect"), run: z.string() }),
  z.object({ op: z.literal("received"), run: z.string() }),
  z.object({ op: z.literal("close") }),
]);
type Command = z.infer<typeof CommandSchema>;
const RequestSchema = z.object({ id: z.number().int(), command: CommandSchema });
const ReplySchema = z.object({ id: z.number().int(), ok: z.boolean(), result: z.unknown().optional(), error: z.string().optional() });
/** `from`: the sender's host (an edgeio socket id names it before its first "."). */
const PayloadSchema = z.object({
  system: z.string(),
  run: z.string(),
  seq: z.number().int().nonnegative(),
  t: z.number(),
  from: z.string(),
});
const LatenciesSchema = z.object({
  latencies: z.array(z.number()),
  local: z.array(z.number()),
  remote: z.array(z.number()),
  duplicates: z.number().int(),
});
const CollectedSchema = z.record(z.string(), LatenciesSchema);
const CountSchema = z.number().int();

// ── client process ─────────────────────────────────────────────
const hostOf = (socket: Socket) => socket.id?.split(".")[0] ?? "";

async function child(): Promise<void> {
  const sockets = new Map<string, Socket>(); // by `${system}/${index}`
  type Entry = { latencies: number[]; local: number[]; remote: number[]; seen: Set<string>; duplicates: number };
  /** Per run, per system: latencies (all, and apart for members on the sender's host and the others) and the (socket, seq) pairs seen. */
  const runs = new Map<string, Map<string, Entry>>();
  const onBench = (key: string, socket: Socket, raw: unknown) => {
    const at = nowMs();
    const payload = PayloadSchema.safeParse(raw);
    if (!payload.success) return;
    const { system, run, seq, t, from } = payload.data;
    const bySystem = runs.get(run) ?? new Map<string, Entry>();
    runs.set(run, bySystem);
    const entry: Entry = bySystem.get(system) ?? { latencies: [], local: [], remote: [], seen: new Set(), duplicates: 0 };
    bySystem.set(system, entry);
    const pair = `${key}#${seq}`;
    if (entry.seen.has(pair)) entry.duplicates++;
    else {
      entry.seen.add(pair);
      entry.latencies.push(at - t);
      // A member on the sender's own host (its local sends; the others are reached by RPC).
      (hostOf(socket) === from ? entry.local : entry.remote).push(at - t);
    }
  };
  const handle = async (command: Command): Promise<unknown> => {
    switch (command.op) {
      case "connect":
        await Promise.all(
          command.indices.map(
            (index) =>
              new Promise<void>((resolve, reject) => {
                const key = `${command.system}/${index}`;
                const socket = io(command.url, { ...CLIENT_OPTIONS, transports: ["websocket"], reconnection: false, forceNew: true });
                socket.once("connect", () => resolve());
                socket.once("connect_error", reject);
                socket.on("bench", (payload: unknown) => onBench(key, socket, payload));
                sockets.set(key, socket);
              }),
          ),
        );
        return command.indices.length;
      case "join":
        await Promise.all(
          command.indices.map((index) => sockets.get(`${command.system}/${index}`)?.timeout(30_000).emitWithAck("join", command.room)),
        );
        return command.indices.length;
      case "send": {
        const socket = sockets.get(`${command.system}/${command.index}`);
        if (!socket) throw new Error(`no client ${command.system}/${command.index} here`);
        for (let seq = 0; seq < command.messages; seq++) {
          // A fixed schedule (not sleep-after-send) so slow emits do not shift the other systems' slots.
          const wait = command.firstAt + seq * command.intervalMs - nowMs();
          if (wait > 1) await sleep(wait);
          socket.emit("io-to-room", command.room, "bench", {
            system: command.system,
            run: command.run,
            seq,
            t: nowMs(),
            from: hostOf(socket),
          });
        }
        return command.messages;
      }
      case "received":
        return [...(runs.get(command.run)?.values() ?? [])].reduce((n, entry) => n + entry.latencies.length, 0);
      case "collect": {
        const bySystem = runs.get(command.run) ?? new Map();
        runs.delete(command.run);
        return Object.fromEntries(
          [...bySystem].map(([system, e]) => [
            system,
            { latencies: e.latencies, local: e.local, remote: e.remote, duplicates: e.duplicates },
          ]),
        );
      }
      case "close":
        for (const socket of sockets.values()) socket.close();
        sockets.clear();
        return 0;
    }
  };
  process.on("message", (raw) => {
    const request = RequestSchema.safeParse(raw);
    if (!request.success) return;
    handle(request.data.command).then(
      (result) => process.send?.({ id: request.data.id, ok: true, result }),
      (error: unknown) => process.send?.({ id: request.data.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
  process.send?.({ id: 0, ok: true });
}

// ── orchestrator ───────────────────────────────────────────────
class ClientProcess {
  private readonly process: ChildProcess;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private nextId = 1;
  readonly ready: Promise<unknown>;

  constructor() {
    this.process = fork(import.meta.filename, ["--child"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.ready = new Promise((resolve, reject) => this.pending.set(0, { resolve, reject }));
    this.process.on("message", (raw) => {
      const reply = ReplySchema.parse(raw);
      const pending = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.ok) pending?.resolve(reply.result);
      else pending?.reject(new Error(reply.error));
    });
  }

  call<S extends z.ZodType>(command: Command, schema: S): Promise<z.infer<S>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: (value) => resolve(schema.parse(value)), reject });
      this.process.send({ id, command });
    });
  }

  stop(): void {
    if (this.process.connected) this.process.disconnect();
  }
}

async function orchestrate(): Promise<void> {
  const { startEngineSystem } = await import("./systems/engine.ts");
  type RunningSystem = Awaited<ReturnType<typeof startEngineSystem>>;
  const clients = Number(values.clients);
  const members = Number(values.members);
  const messages = Number(values.messages);
  const rate = Number(values.rate);
  if (!(members > 0 && members <= clients && messages > 0 && rate > 0 && rate <= 50)) {
    throw new Error("need 0 < --members <= --clients, --messages > 0, 0 < --rate <= 50 (the sender's packet limit)");
  }
  const ROOM = "ab-paced";
  const names = values.floor ? ["head", "worktree", "floor"] : ["head", "worktree"];
  const processes = [new ClientProcess(), new ClientProcess()];
  /** Client i of every system lives in process i % 2. */
  const owner = (index: number) => processes[index % processes.length];
  const share = (count: number, p: number) => Array.from({ length: count }, (_, i) => i).filter((i) => i % processes.length === p);
  const systems = new Map<string, RunningSystem>();
  try {
    await Promise.all(processes.map((p) => p.ready));
    systems.set("head", await startEngineSystem("edgeio-engine", "head"));
    systems.set("worktree", await startEngineSystem("edgeio-engine", "worktree"));
    if (values.floor) systems.set("floor", await startEngineSystem("floor", "worktree"));
    for (const name of names) {
      const url = systems.get(name)?.wsUrls[0] ?? "";
      // A few at a time: a connect burst is not what is measured.
      for (let from = 0; from < clients; from += 20) {
        const indices = (p: number) => share(clients, p).filter((i) => i >= from && i < from + 20);
        await Promise.all(processes.map((p, i) => p.call({ op: "connect", system: name, url, indices: indices(i) }, CountSchema)));
      }
      await Promise.all(processes.map((p, i) => p.call({ op: "join", system: name, room: ROOM, indices: share(members, i) }, CountSchema)));
    }
    await sleep(1000); // the joins' after-effects settle
    let runs = 0;
    type Latencies = { all: number[]; local: number[]; remote: number[] };
    /** One batch: every system's sender at once, interleaved; each system's latencies, sorted. */
    const batch = async (order: string[], sender: number, count: number): Promise<Map<string, Latencies>> => {
      const run = `ab-${runs++}`;
      const intervalMs = 1000 / rate;
      const firstAt = nowMs() + 200;
      const sending = order.map((system, k) =>
        owner(sender).call(
          {
            op: "send",
            system,
            index: sender,
            room: ROOM,
            run,
            messages: count,
            firstAt: firstAt + (k * intervalMs) / order.length,
            intervalMs,
          },
          CountSchema,
        ),
      );
      await Promise.all(sending);
      const expected = order.length * members * count;
      const doneBy = nowMs() + 10_000;
      for (;;) {
        const received = await Promise.all(processes.map((p) => p.call({ op: "received", run }, CountSchema)));
        if (received.reduce((a, b) => a + b, 0) >= expected) break;
        if (nowMs() > doneBy) throw new Error(`run ${run}: ${received.reduce((a, b) => a + b, 0)} of ${expected} deliveries within 10 s`);
        await sleep(50);
      }
      const collected = await Promise.all(processes.map((p) => p.call({ op: "collect", run }, CollectedSchema)));
      const result = new Map<string, Latencies>();
      const sorted = (lists: number[][]) => lists.flat().sort((a, b) => a - b);
      for (const system of order) {
        const of = collected.map((c) => c[system] ?? { latencies: [], local: [], remote: [], duplicates: 0 });
        const duplicates = of.reduce((n, c) => n + c.duplicates, 0);
        if (duplicates > 0) throw new Error(`${system}: ${duplicates} duplicate deliveries`);
        result.set(system, {
          all: sorted(of.map((c) => c.latencies)),
          local: sorted(of.map((c) => c.local)),
          remote: sorted(of.map((c) => c.remote)),
        });
      }
      return result;
    };
    // Warm up: code compiled, every host's stubs and room-host copies in place.
    for (let s = 0; s < 4; s++) await batch(names, s, 10);
    const p50s = new Map<string, number[]>(names.map((name) => [name, []]));
    const fixed = (value: number | null) => (value === null ? "-" : value.toFixed(2));
    for (let index = 0; index < Number(values.batches); index++) {
      const order = names.map((_, i) => names[(i + index) % names.length]);
      const sender = index % members;
      const latencies = await batch(order, sender, messages);
      const line = names.map((name) => {
        const { all, local, remote } = latencies.get(name) ?? { all: [], local: [], remote: [] };
        p50s.get(name)?.push(percentile(all, 50) ?? Number.NaN);
        // edgeio: the sender's own host's members (local sends) and the others' (by RPC) apart.
        const split = name === "floor" ? "" : ` (local ${fixed(percentile(local, 50))}, remote ${fixed(percentile(remote, 50))})`;
        return `${name} p50 ${fixed(percentile(all, 50))}${split} p90 ${fixed(percentile(all, 90))}`;
      });
      console.log(`batch ${index} (sender ${sender}, order ${order.join(">")}): ${line.join(", ")} ms`);
    }
    const of = (name: string) => p50s.get(name) ?? [];
    const ratio = (a: string, b: string) => median(of(a).map((value, i) => value / of(b)[i])).toFixed(3);
    console.log(`median p50: ${names.map((name) => `${name} ${median(of(name)).toFixed(2)} ms`).join(", ")}`);
    console.log(`median paired p50 ratio worktree/head ${ratio("worktree", "head")}`);
    if (values.floor)
      console.log(`median paired p50 ratio head/floor ${ratio("head", "floor")}, worktree/floor ${ratio("worktree", "floor")}`);
  } finally {
    await Promise.all(processes.map((p) => p.call({ op: "close" }, CountSchema).catch(() => 0)));
    for (const p of processes) p.stop();
    for (const system of systems.values()) await system.stop();
  }
}

if (values.child) await child();
else await orchestrate();
