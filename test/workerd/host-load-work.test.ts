/**
 * The host's alarm work, counted, never timed.
 * - The load report (stats/host-load.ts): building one reads no SQLite row however many sockets,
 *   users and rooms the host has. Its distinct users and rooms are counted in memory
 *   (host-load-index.ts), rebuilt from SQLite once per instance and kept in step by the store's
 *   write-through; the report must still be right after an eviction. It is built inside the host
 *   (runInDurableObject), where nothing interleaves with it.
 * - The alarm's own bookkeeping (counters, heartbeat, report and lease times in host_meta) does
 *   not write the rows of sessions kept back in their WebSockets' attachments (host-store.ts):
 *   a WebSocket session that changes nothing is never written, as at its CONNECT.
 */
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import type { BilledWork } from "../../durable-objects/billed-work";
import type { HostLoad } from "../../durable-objects/stats/types";
import { RawClient } from "./presence-client";

const HOST = "loadwork:0";
const stubOf = (host: string) => env.CONNECTION_HOST.get(env.CONNECTION_HOST.idFromName(host));
const stub = () => stubOf(HOST);

type Internals = { load: { build(now: number, host: string): HostLoad }; work: BilledWork };

/** Builds one load report inside the host: the report, and the SQLite rows it read. */
async function report(): Promise<{ load: HostLoad; rowsRead: number; statements: number }> {
  return runInDurableObject(stub(), (instance) => {
    const host = instance as unknown as Internals;
    const before = host.work.snapshot();
    const load = host.load.build(Date.now(), HOST);
    const after = host.work.snapshot();
    return { load, rowsRead: after.rowsRead - before.rowsRead, statements: after.statements - before.statements };
  });
}

/** The report's figures that must match (ids sorted: their order is not part of it). */
function figures(load: HostLoad) {
  return {
    sessions: load.sessions,
    namespaces: load.namespaces,
    users: [...(load.users ?? [])].sort(),
    userCount: load.userCount,
    rooms: [...(load.rooms ?? [])].sort(),
    roomCount: load.roomCount,
  };
}

const rooms = (...names: string[]) => names.map((name) => JSON.stringify(["/", name])).sort();

const clients: RawClient[] = [];
afterAll(() => {
  for (const client of clients.splice(0)) client.close();
});

describe("the host's load report", () => {
  it("reads no SQLite row once built, after joins, data changes and disconnects, and stays right across an eviction", async () => {
    // 12 sockets, users u0–u5 (two sockets each), rooms r0–r3 and lobby.
    for (let i = 0; i < 12; i++) {
      const client = await RawClient.open(HOST);
      clients.push(client);
      await client.call("set-data", "user", { id: `u${i % 6}` });
      await client.call("join", `r${i % 4}`);
      await client.call("join", "lobby");
    }
    const first = await report();
    expect(figures(first.load)).toEqual({
      sessions: 12,
      namespaces: [{ nsp: "/", sockets: 12, rooms: 5 }],
      users: ["u0", "u1", "u2", "u3", "u4", "u5"],
      userCount: 6,
      rooms: rooms("lobby", "r0", "r1", "r2", "r3"),
      roomCount: 5,
    });

    // Changes after the first report: the next one reads nothing (it used to scan the socket and room tables).
    await clients[0].call("join", "extra");
    await clients[1].call("set-data", "user", { id: "u9" });
    await clients[4].call("leave", "r0");
    await clients[8].call("leave", "r0"); // r0 had clients 0, 4 and 8
    const afterChanges = await report();
    expect(afterChanges.rowsRead).toBe(0);
    expect(afterChanges.statements).toBe(0);
    expect(figures(afterChanges.load)).toEqual({
      sessions: 12,
      namespaces: [{ nsp: "/", sockets: 12, rooms: 6 }],
      users: ["u0", "u1", "u2", "u3", "u4", "u5", "u9"],
      userCount: 7,
      rooms: rooms("extra", "lobby", "r0", "r1", "r2", "r3"),
      roomCount: 6,
    });

    // A new instance rebuilds the counts from SQLite once (and the attachments of sockets not written yet).
    await evictDurableObject(stub());
    const rebuilt = await report();
    expect(figures(rebuilt.load)).toEqual(figures(afterChanges.load));

    // Then keeps them in step: u1 leaves with its last socket (client 7; client 1 is u9 now), r0 empties.
    clients[7].close();
    await clients[0].call("leave", "r0");
    await clients[2].call("set-data", "user", { id: "u2" }); // unchanged
    await clients[3].call("set-data", "user", null); // u3 keeps client 9
    const late = await RawClient.open(HOST); // a socket not written yet when the report is built
    clients.push(late);
    await late.call("set-data", "user", { id: "u7" });
    let latest = await report();
    // Client 7's close reaches the host in its own time (a session closing is no longer counted).
    for (let i = 0; i < 50 && latest.load.namespaces[0]?.sockets !== 12; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      latest = await report();
    }
    expect(latest.rowsRead).toBe(0);
    expect(figures(latest.load)).toEqual({
      sessions: 12,
      namespaces: [{ nsp: "/", sockets: 12, rooms: 5 }],
      users: ["u0", "u2", "u3", "u4", "u5", "u7", "u9"],
      userCount: 7,
      rooms: rooms("extra", "lobby", "r1", "r2", "r3"),
      roomCount: 5,
    });
  }, 30_000);
});

describe("the host's alarm and kept-back sessions", () => {
  it("alarms (pings, the load report, lease renewals) write no row of a WebSocket session that changed nothing; it survives an eviction", async () => {
    const host = "keptalarm:0";
    const client = await RawClient.open(host);
    clients.push(client);
    const alarmsBefore = (await stubOf(host).stats()).alarms;
    // Pings every 300 ms here, a load report 500 ms after the connect, a lease renewal (1.5 s lease) on the first alarm.
    for (let i = 0; i < 100 && (await stubOf(host).stats()).alarms < alarmsBefore + 4; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await stubOf(host).stats()).alarms).toBeGreaterThanOrEqual(alarmsBefore + 4);
    const stored = () =>
      runInDurableObject(stubOf(host), (_instance, state) => ({
        sessions: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sessions").one().n,
        sockets: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sockets").one().n,
      }));
    expect(await stored()).toEqual({ sessions: 0, sockets: 0 });
    await evictDurableObject(stubOf(host));
    // A new instance's first schedule (a handshake's, an ack deadline's) sees the session though
    // SQLite has none: its pings go on (an empty schedule would delete the alarm).
    const due = await runInDurableObject(stubOf(host), (instance) =>
      (instance as unknown as { heartbeat: { dueTimes(now: number): number[] } }).heartbeat.dueTimes(Date.now()),
    );
    expect(due.length).toBeGreaterThan(0);
    await client.call("rooms"); // answered: the session came back from its attachment
    // Its close deletes nothing either: there is no row.
    const closeWrites = async () => (await stubOf(host).stats()).work.sqlBy.webSocketClose.rowsWritten;
    const before = await closeWrites();
    client.close();
    for (let i = 0; i < 100 && (await stubOf(host).stats()).sessions > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await stubOf(host).stats()).sessions).toBe(0);
    expect((await closeWrites()) - before).toBe(0);
  }, 30_000);
});
