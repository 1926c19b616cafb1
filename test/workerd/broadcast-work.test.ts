/**
 * The work of a room broadcast across hosts, counted (never timed), with real raw Socket.IO
 * clients on four named hosts and the echo app's `io-to-room` handler (`io.to(room).emit` in the
 * sender's host), from each host's own counters (`stats().work`, durable-objects/billed-work.ts):
 * - one broadcast: 1 WebSocket message on the sender's host, 1 `apply` RPC on each other host,
 *   and no SQL at all anywhere (membership, room hosts and sessions are read from memory);
 * - a burst: emits that find the previous one still in flight to a host go to it as one batch
 *   (cluster/host-stubs.ts; after at most MAX_BATCH_WAIT_MS each), so a host held back while 10
 *   emits are sent gets a few RPCs for them, not 10, and its members still get every emit
 *   exactly once, in order.
 * The alarm's own work (pings every 300 ms here, load reports) is left out: it is not the broadcast's.
 */
import { env } from "cloudflare:test";
import { expect, it } from "vitest";
import type { BilledWorkCounts } from "../../durable-objects/billed-work";
import { type EdgeioBindings, hostStub } from "../../durable-objects/bindings";
import type { HostStats } from "../../durable-objects/host-stats";
import { eventually, type RawClient, roomMembersOn } from "./presence-client";

const bindings = env as unknown as EdgeioBindings;
const ROOM = "work:room";
const HOSTS = ["bwork:0", "bwork:1", "bwork:2", "bwork:3"];

const joined = roomMembersOn(ROOM);
const work = async (host: string) => ((await hostStub(bindings, host).stats()) as HostStats).work;

/** What a host did between two snapshots, the alarm's, the constructor's and the stats call's own SQL left out. */
function delta(before: BilledWorkCounts, after: BilledWorkCounts) {
  const sql = { statements: 0, rowsRead: 0, rowsWritten: 0 };
  for (const kind of ["fetch", "webSocketMessage", "webSocketClose", "webSocketError", "rpc"] as const) {
    sql.statements += after.sqlBy[kind].statements - before.sqlBy[kind].statements;
    sql.rowsRead += after.sqlBy[kind].rowsRead - before.sqlBy[kind].rowsRead;
    sql.rowsWritten += after.sqlBy[kind].rowsWritten - before.sqlBy[kind].rowsWritten;
  }
  return {
    messages: after.invocations.webSocketMessage - before.invocations.webSocketMessage,
    rpcs: after.invocations.rpc - before.invocations.rpc,
    ...sql,
  };
}

const newsOf = (member: RawClient) => member.events.filter(([name]) => name === "news").map(([, n]) => n as number);

async function members(): Promise<RawClient[]> {
  const all: RawClient[] = [];
  for (const host of HOSTS) for (let i = 0; i < 3; i++) all.push(await joined(host));
  return all;
}

it("a broadcast to a room on 4 hosts: 1 message in, 1 apply RPC per other host, no SQLite row read or written", async () => {
  const all = await members();
  const sender = all[0];
  sender.ws.send(`42${JSON.stringify(["io-to-room", ROOM, "news", 0])}`); // warm: the room's hosts fetched once
  await eventually(() => all.every((m) => newsOf(m).length === 1), "the first broadcast at every member");
  const before = await Promise.all(HOSTS.map(work));
  for (let n = 1; n <= 5; n++) {
    sender.ws.send(`42${JSON.stringify(["io-to-room", ROOM, "news", n])}`);
    await eventually(() => all.every((m) => newsOf(m).length === n + 1), `broadcast ${n} at every member`);
  }
  const after = await Promise.all(HOSTS.map(work));
  const perHost = HOSTS.map((_, i) => delta(before[i], after[i]));
  const none = { statements: 0, rowsRead: 0, rowsWritten: 0 };
  expect(perHost).toEqual([{ messages: 5, rpcs: 0, ...none }, ...HOSTS.slice(1).map(() => ({ messages: 0, rpcs: 5, ...none }))]);
  for (const member of all) expect(newsOf(member)).toEqual([0, 1, 2, 3, 4, 5]);
}, 30_000);

it("a burst to a host still busy with the previous emit reaches it in batches: a few RPCs for 10 emits, each delivered once, in order", async () => {
  const all = await members();
  const sender = all[0];
  sender.ws.send(`42${JSON.stringify(["io-to-room", ROOM, "news", 0])}`);
  await eventually(() => all.every((m) => newsOf(m).length === 1), "the first broadcast at every member");
  const held = HOSTS[1];
  const before = await work(held);
  // The held host answers nothing until released: the sender's first emit stays in flight to it.
  await hostStub(bindings, held).testStall(true);
  try {
    for (let n = 1; n <= 10; n++) sender.ws.send(`42${JSON.stringify(["io-to-room", ROOM, "news", n])}`);
    const elsewhere = all.filter((m) => m.host !== held);
    await eventually(() => elsewhere.every((m) => newsOf(m).length === 11), "the burst at the other hosts' members");
  } finally {
    await hostStub(bindings, held).testStall(false);
  }
  await eventually(() => all.every((m) => newsOf(m).length === 11), "the burst at the held host's members");
  await new Promise((resolve) => setTimeout(resolve, 150));
  const expected = Array.from({ length: 11 }, (_, n) => n);
  for (const member of all) expect(newsOf(member)).toEqual(expected);
  // The first emit, then those that waited for it in one call per MAX_BATCH_WAIT_MS (2 when the
  // nine are sent within it; it was 10 calls, one per emit).
  const { rpcs, ...rest } = delta(before, await work(held));
  expect(rpcs).toBeGreaterThanOrEqual(2);
  expect(rpcs).toBeLessThanOrEqual(5);
  expect(rest).toEqual({ messages: 0, statements: 0, rowsRead: 0, rowsWritten: 0 });
}, 30_000);
