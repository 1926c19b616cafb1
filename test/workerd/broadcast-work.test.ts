/**
 * The work of a room broadcast across hosts, counted (never timed), with real raw Socket.IO
 * clients on four named hosts and the echo app's `io-to-room` handler (`io.to(room).emit` in the
 * sender's host), from each host's own counters (`stats().work`, durable-objects/billed-work.ts):
 * - one broadcast: 1 WebSocket message on the sender's host, 1 `apply` RPC on each other host,
 *   and no SQL at all anywhere (membership, room hosts and sessions are read from memory);
 * - a burst: emits closer than BATCH_WINDOW_MS to the previous one to a host wait that long and
 *   go to it as one batch (cluster/host-stubs.ts), so 20 emits sent back to back reach each
 *   other host in a few RPCs, not 20, and every member still gets each exactly once, in order.
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

it("a burst of 20 emits reaches each other host in a few batch calls, not 20, and every member once each, in order", async () => {
  const all = await members();
  const sender = all[0];
  sender.ws.send(`42${JSON.stringify(["io-to-room", ROOM, "news", 0])}`);
  await eventually(() => all.every((m) => newsOf(m).length === 1), "the first broadcast at every member");
  await new Promise((resolve) => setTimeout(resolve, 50)); // a window apart: the burst's first emit goes at once
  const before = await Promise.all(HOSTS.map(work));
  for (let n = 1; n <= 20; n++) sender.ws.send(`42${JSON.stringify(["io-to-room", ROOM, "news", n])}`);
  await eventually(() => all.every((m) => newsOf(m).length === 21), "the burst at every member");
  await new Promise((resolve) => setTimeout(resolve, 150));
  const expected = Array.from({ length: 21 }, (_, n) => n);
  for (const member of all) expect(newsOf(member)).toEqual(expected);
  const after = await Promise.all(HOSTS.map(work));
  const perHost = HOSTS.map((_, i) => delta(before[i], after[i]));
  expect(perHost[0]).toEqual({ messages: 20, rpcs: 0, statements: 0, rowsRead: 0, rowsWritten: 0 });
  // The burst's first emit alone, then one call per BATCH_WINDOW_MS (cluster/host-stubs.ts) for
  // the others: it was 20 calls, one per emit.
  for (const { rpcs, ...rest } of perHost.slice(1)) {
    expect(rpcs).toBeGreaterThanOrEqual(2);
    expect(rpcs).toBeLessThanOrEqual(10);
    expect(rest).toEqual({ messages: 0, statements: 0, rowsRead: 0, rowsWritten: 0 });
  }
  console.log(
    `apply RPCs per other host for 20 emits: ${perHost
      .slice(1)
      .map((d) => d.rpcs)
      .join(", ")}`,
  );
}, 30_000);
