/**
 * A/B of the long-polling round trip's runtime CPU (issue 11): the last commit ("head") and the
 * files as they are ("worktree") run side by side, each in its own runtime, and their batches
 * of round trips alternate, so that the load of a shared machine weighs on both alike. Prints
 * each batch's CPU per round trip and the median ratio worktree / head of paired batches.
 *
 *   node bench/ab-polling.ts [--clients 20] [--rounds 20] [--batches 8] [--event count|echo]
 *
 * Seen on a loaded 2-core machine: single batches vary by ±30 %, and the same code measured as
 * "worktree" came out a few % above itself as "head"; a difference under ~10 % needs the swapped
 * run too (commit the candidate, put the old files in the worktree) before it means anything.
 */
import { parseArgs } from "node:util";
import { io, type Socket } from "socket.io-client";
import { sumCpu } from "../test/helpers/proc.ts";
import { median } from "./lib/stats.ts";
import { CLIENT_OPTIONS } from "./load/client-options.ts";
import { startEngineSystem } from "./systems/engine.ts";
import type { RunningSystem } from "./systems/types.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "20" },
    rounds: { type: "string", default: "20" },
    batches: { type: "string", default: "8" },
    event: { type: "string", default: "count" },
  },
});
if (values.event !== "echo" && values.event !== "count") throw new Error("--event is echo or count");

function connectPolling(url: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { ...CLIENT_OPTIONS, transports: ["polling"], reconnection: false, forceNew: true });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

async function roundTrips(sockets: Socket[], rounds: number, name = ""): Promise<number> {
  let done = 0;
  await Promise.all(
    sockets.map(async (socket) => {
      for (let round = 0; round < rounds; round++) {
        const timed = socket.timeout(10_000);
        const ack = values.event === "count" ? timed.emitWithAck("count") : timed.emitWithAck("echo", round);
        await ack.catch((error: unknown) => {
          throw new Error(`${name}: round ${round} of ${socket.id}: ${String(error)}`);
        });
        done++;
      }
    }),
  );
  return done;
}

/** Runtime CPU ms per round trip over one batch. */
async function batch(system: RunningSystem, sockets: Socket[], rounds: number): Promise<number> {
  const before = sumCpu(system.cpuPids());
  const done = await roundTrips(sockets, rounds, system === systems.head ? "head" : "worktree");
  return ((sumCpu(system.cpuPids()) - before) * 1000) / done;
}

const systems = {
  head: await startEngineSystem("edgeio-engine", "head", "deploy", "echo"),
  worktree: await startEngineSystem("edgeio-engine", "worktree", "deploy", "echo"),
};
try {
  const clients = Number(values.clients);
  const rounds = Number(values.rounds);
  const sockets = {
    head: await Promise.all(Array.from({ length: clients }, () => connectPolling(systems.head.pollingUrls[0]))),
    worktree: await Promise.all(Array.from({ length: clients }, () => connectPolling(systems.worktree.pollingUrls[0]))),
  };
  await roundTrips(sockets.head, 5, "head");
  await roundTrips(sockets.worktree, 5, "worktree");
  const figures = { head: [] as number[], worktree: [] as number[] };
  for (let index = 0; index < Number(values.batches); index++) {
    // Which goes first alternates too.
    const order = index % 2 === 0 ? (["head", "worktree"] as const) : (["worktree", "head"] as const);
    for (const name of order) figures[name].push(await batch(systems[name], sockets[name], rounds));
    console.log(`batch ${index}: head ${figures.head[index].toFixed(3)} ms, worktree ${figures.worktree[index].toFixed(3)} ms`);
  }
  const ratios = figures.head.map((head, index) => figures.worktree[index] / head);
  console.log(
    `median CPU per round trip: head ${median(figures.head).toFixed(3)} ms, worktree ${median(figures.worktree).toFixed(3)} ms; median ratio worktree/head ${median(ratios).toFixed(3)}`,
  );
  for (const socket of [...sockets.head, ...sockets.worktree]) socket.disconnect();
} finally {
  await systems.head.stop();
  await systems.worktree.stop();
}
