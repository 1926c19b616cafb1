/**
 * The orchestrator's handle on the load-generator processes: forks them, sends commands,
 * validates replies, and measures their CPU. Client index i lives in worker i % size.
 */
import { fork, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import type { z } from "zod";
import { CpuResultSchema, ReplySchema, type Command } from "./protocol.ts";

const WORKER = resolve(import.meta.dirname, "worker.ts");

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class LoadWorker {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  readonly ready: Promise<void>;
  readonly index: number;

  constructor(index: number) {
    this.index = index;
    // Raise the heap limit: a worker may hold hundreds of thousands of latency samples.
    this.child = fork(WORKER, [], { execArgv: ["--max-old-space-size=2048"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.ready = new Promise((resolveReady, reject) => {
      this.pending.set(0, { resolve: () => resolveReady(), reject });
    });
    this.child.on("message", (raw) => {
      const reply = ReplySchema.safeParse(raw);
      if (!reply.success) throw new Error(`load worker ${index}: bad reply ${JSON.stringify(raw).slice(0, 200)}`);
      const pending = this.pending.get(reply.data.id);
      if (!pending) return;
      this.pending.delete(reply.data.id);
      if (reply.data.ok) pending.resolve(reply.data.result);
      else pending.reject(new Error(`load worker ${index}: ${reply.data.error}`));
    });
    this.child.on("exit", (code) => {
      for (const pending of this.pending.values()) pending.reject(new Error(`load worker ${index} exited with ${code}`));
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  call<S extends z.ZodType>(command: Command, schema: S): Promise<z.infer<S>> {
    const id = this.nextId++;
    return new Promise((resolveCall, reject) => {
      this.pending.set(id, { resolve: (value) => resolveCall(schema.parse(value)), reject });
      this.child.send({ id, command });
    });
  }

  /** CPU seconds (user + system) this worker has used so far. */
  async cpuSeconds(): Promise<number> {
    const usage = await this.call({ op: "cpu" }, CpuResultSchema);
    return (usage.user + usage.system) / 1e6;
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
  }
}

export class LoadPool {
  readonly workers: LoadWorker[];

  constructor(size: number) {
    this.workers = Array.from({ length: size }, (_, i) => new LoadWorker(i));
  }

  async start(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.ready));
  }

  workerOf(index: number): LoadWorker {
    return this.workers[index % this.workers.length];
  }

  /** Global client indices [from, to) grouped by the worker that owns them. */
  split(from: number, to: number): number[][] {
    const groups: number[][] = this.workers.map(() => []);
    for (let i = from; i < to; i++) groups[i % this.workers.length].push(i);
    return groups;
  }

  /** Sends one command per worker (built from that worker's share) and gathers the replies. */
  async each<S extends z.ZodType>(build: (worker: LoadWorker, i: number) => Command | null, schema: S): Promise<Array<z.infer<S>>> {
    const calls: Array<Promise<z.infer<S>>> = [];
    this.workers.forEach((worker, i) => {
      const command = build(worker, i);
      if (command) calls.push(worker.call(command, schema));
    });
    return Promise.all(calls);
  }

  /** CPU seconds per worker, for before/after deltas around a scenario. */
  cpu(): Promise<number[]> {
    return Promise.all(this.workers.map((w) => w.cpuSeconds()));
  }

  stop(): void {
    for (const worker of this.workers) worker.stop();
  }
}
