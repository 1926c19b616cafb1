/**
 * Work counted per object (counts of calls, never times), inside workerd with the echo app.
 *
 * - Connect storm: many WebSocket sessions opened at once straight on many hosts (as the
 *   Worker forwards them; real raw Engine.IO/Socket.IO clients): the only object outside the
 *   hosts that hears of them, the namespace directory (RoomDO of the namespace), gets one call
 *   per host, never one per socket, on connect and on disconnect.
 * - A broadcast to a room with members on H hosts costs 1 + H calls: one `hosts()` to the room,
 *   one `apply()` per host. Counted by wrapping the Durable Object bindings the cluster seam uses.
 * - A room of 50,000 members on 10 hosts gets a broadcast exactly once each. The members are
 *   cheap and in-process: sessions and sockets are written to each host's own store and joined
 *   through the host's own room membership code (`ConnectionHost.join`, what `socket.join`
 *   calls), inside the host with `runInDurableObject`, without WebSockets. They are polling
 *   sessions with no GET held, so a delivery is a frame queued in that session's outbox: each
 *   member must have exactly one, and sockets outside the room none.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, expect, it } from "vitest";
import { type EdgeioBindings, roomStub } from "../../durable-objects/bindings";
import { clusterOf, eventOp, matchedCount } from "../../durable-objects/cluster/cluster";
import type { ConnectionHost } from "../../durable-objects/connection-host";
import type { HostStore } from "../../durable-objects/host-store";
import type { RoomStats } from "../../durable-objects/room";
import { eventually, RawClient } from "./presence-client";

const bindings = env as unknown as EdgeioBindings;
/** The echo app's PRESENCE_LEASE_MS (examples/echo/wrangler.toml): hosts renew once per period. */
const LEASE_MS = 1_500;

const open: RawClient[] = [];
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

const directoryStats = () => roomStub(bindings, "/", null).stats() as Promise<RoomStats>;

/** Calls made between two stats snapshots, by method. */
function callsBetween(before: RoomStats, after: RoomStats): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const [method, n] of Object.entries(after.calls)) {
    const delta = n - (before.calls[method] ?? 0);
    if (delta > 0) calls[method] = delta;
  }
  return calls;
}

/** `bindings` with every RPC to a RoomDO or ConnectionHost counted as "ROOM.hosts", "CONNECTION_HOST.apply", …. */
function countingBindings(): { env: EdgeioBindings; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  type Callable = (...args: unknown[]) => unknown;
  const wrap = (binding: string, ns: DurableObjectNamespace): DurableObjectNamespace =>
    new Proxy(ns, {
      get(target, prop) {
        const member = Reflect.get(target, prop) as Callable;
        if (prop !== "get") return typeof member === "function" ? (...args: unknown[]) => Reflect.apply(member, target, args) : member;
        return (id: DurableObjectId) =>
          new Proxy(target.get(id), {
            get(stub, method) {
              const value = Reflect.get(stub, method) as unknown;
              if (typeof value !== "function" || typeof method !== "string") return value;
              return (...args: unknown[]) => {
                calls.set(`${binding}.${method}`, (calls.get(`${binding}.${method}`) ?? 0) + 1);
                // Reflect.apply: `.apply` on an RPC method would itself be a remote call.
                return Reflect.apply(value as Callable, stub, args);
              };
            },
          });
      },
    });
  const counted = {
    ...bindings,
    ROOM: wrap("ROOM", bindings.ROOM as never),
    CONNECTION_HOST: wrap("CONNECTION_HOST", bindings.CONNECTION_HOST as never),
    USER: wrap("USER", bindings.USER as never),
  } as unknown as EdgeioBindings;
  return { env: counted, calls };
}

it("a connect storm on many hosts costs the namespace directory one call per host, none per socket", async () => {
  const HOSTS = 12;
  const PER_HOST = 10;
  const hosts = Array.from({ length: HOSTS }, (_, i) => `storm:${i}`);
  const before = await directoryStats();
  const started = Date.now();

  const clients = await Promise.all(hosts.flatMap((host) => Array.from({ length: PER_HOST }, () => RawClient.open(host))));
  open.push(...clients);
  expect(new Set(clients.map((client) => client.host))).toEqual(new Set(hosts));
  const connected = await directoryStats();
  const onConnect = callsBetween(before, connected);
  const { renew = 0, ...perEdge } = onConnect;
  // One registration per host (its first socket in "/"), nothing per socket.
  expect(perEdge).toEqual({ addHost: HOSTS });
  // Lease renewals are per host and per lease period, whatever the number of sockets.
  expect(renew).toBeLessThanOrEqual(HOSTS * (Math.floor((Date.now() - started) / LEASE_MS) + 1));

  // Every session of half the hosts disconnects: one removal per emptied host (a lease period
  // later, see the next test), nothing per socket.
  const leaving = clients.filter((client) => hosts.indexOf(client.host) < HOSTS / 2);
  for (const client of leaving) client.close();
  await eventually(async () => callsBetween(connected, await directoryStats()).removeHost === HOSTS / 2, "the emptied hosts to leave");
  const { renew: _renewals, ...afterDisconnect } = callsBetween(connected, await directoryStats());
  expect(afterDisconnect).toEqual({ removeHost: HOSTS / 2 });
  expect(new Set(await roomStub(bindings, "/", null).hosts())).toEqual(new Set(hosts.slice(HOSTS / 2)));
}, 60_000);

it("a host whose sockets come and go one at a time stays listed for a lease period: no directory call per connection", async () => {
  const host = "churn:0";
  // The previous test's hosts leave a lease period after its clients closed: counted from then on.
  const directory = roomStub(bindings, "/", null);
  await eventually(async () => !(await directory.hosts()).some((listed) => listed.startsWith("storm:")), "the storm's hosts to leave");
  const before = await directoryStats();
  const first = await RawClient.open(host);
  open.push(first);
  first.close();
  // Its last socket left: the host stays in the namespace's directory, so the next sockets,
  // each alone on the host, reach the directory with no call.
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 3; i++) {
    const client = await RawClient.open(host);
    open.push(client);
    client.close();
    await new Promise((r) => setTimeout(r, 100));
  }
  const back = await RawClient.open(host);
  open.push(back);
  const { renew: _churnRenewals, ...churn } = callsBetween(before, await directoryStats());
  expect(churn).toEqual({ addHost: 1 });
  expect(await directory.hosts()).toContain(host);
  // Listed all along: a namespace-wide emit reaches the socket that came back.
  const results = await clusterOf(bindings).apply(eventOp({ nsp: "/", rooms: [], except: [] }, "churned", { n: 1 })).results;
  expect(matchedCount(results)).toBeGreaterThanOrEqual(1);
  await eventually(() => back.events.some(([name]) => name === "churned"), "the emit at the socket that came back");

  // Once the host has had no socket for a lease period it leaves, with one call.
  back.close();
  const emptied = await directoryStats();
  await eventually(async () => callsBetween(emptied, await directoryStats()).removeHost === 1, "the emptied host to leave", LEASE_MS * 6);
  const { renew: _leaveRenewals, ...leaving } = callsBetween(emptied, await directoryStats());
  expect(leaving).toEqual({ removeHost: 1 });
  expect(await directory.hosts()).not.toContain(host);
}, 60_000);

it("a broadcast to a room with members on H hosts costs 1 + H calls, and reaches each member once", async () => {
  const hosts = ["fan:0", "fan:1", "fan:2", "fan:3"];
  const room = "fan:room";
  const members = await Promise.all(hosts.flatMap((host) => [0, 1, 2].map(() => RawClient.open(host))));
  const outsider = await RawClient.open("fan:0");
  open.push(...members, outsider);
  for (const member of members) await member.call("join", room);
  // Anonymous members: the room heard only each host's first join.
  const stats = (await roomStub(bindings, "/", room).stats()) as RoomStats;
  expect(stats.calls.join ?? 0).toBe(0);
  expect(stats.calls.addHost).toBe(hosts.length);

  const counting = countingBindings();
  const results = await clusterOf(counting.env).apply(eventOp({ nsp: "/", rooms: [room], except: [] }, "news", { n: 1 })).results;
  expect(matchedCount(results)).toBe(members.length);
  expect(Object.fromEntries(counting.calls)).toEqual({ "ROOM.hosts": 1, "CONNECTION_HOST.apply": hosts.length });

  await eventually(() => members.every((member) => member.events.some(([name]) => name === "news")), "the news at every member");
  await new Promise((r) => setTimeout(r, 200));
  for (const member of members) expect(member.events.filter(([name]) => name === "news")).toEqual([["news", { n: 1 }]]);
  expect(outsider.events.filter(([name]) => name === "news")).toEqual([]);
}, 60_000);

/** What a test reaches inside a ConnectionHost (TypeScript-private members, there at runtime). */
type HostInside = { store: HostStore; join(socketId: string, rooms: string[]): Promise<void> };

it("a room of 50,000 members on 10 hosts receives a broadcast exactly once each", async () => {
  const HOSTS = 10;
  const PER_HOST = 5_000;
  const OUTSIDERS = 20;
  const room = "stream:global";
  const hosts = Array.from({ length: HOSTS }, (_, i) => `big:${i}`);
  const now = Date.now();
  const handshake = JSON.stringify({
    headers: {},
    query: {},
    address: "127.0.0.1",
    time: "",
    issued: now,
    url: "/",
    secure: false,
    xdomain: false,
  });

  await Promise.all(
    hosts.map((host) =>
      runInDurableObject(bindings.CONNECTION_HOST.get(bindings.CONNECTION_HOST.idFromName(host)), async (instance: ConnectionHost) => {
        const inside = instance as unknown as HostInside;
        inside.store.setMeta("name", host);
        const joins: Array<Promise<void>> = [];
        for (let i = 0; i < PER_HOST + OUTSIDERS; i++) {
          const sid = `${host}.session${i}`;
          const id = `${host}.socket${i}`;
          inside.store.createSession(sid, "polling", now, now + 3_600_000, handshake);
          inside.store.insertSocket({ id, sid, nsp: "/", auth: "{}", data: "{}", connected_at: now });
          if (i < PER_HOST) joins.push(inside.join(id, [room]));
        }
        await Promise.all(joins);
      }),
    ),
  );
  const stats = (await roomStub(bindings, "/", room).stats()) as RoomStats;
  expect(stats.hosts).toBe(HOSTS);
  expect(stats.calls).toEqual({ addHost: HOSTS });

  const counting = countingBindings();
  const results = await clusterOf(counting.env).apply(eventOp({ nsp: "/", rooms: [room], except: [] }, "big", { n: 1 })).results;
  expect(Object.fromEntries(counting.calls)).toEqual({ "ROOM.hosts": 1, "CONNECTION_HOST.apply": HOSTS });
  expect(matchedCount(results)).toBe(HOSTS * PER_HOST);

  let delivered = 0;
  for (const host of hosts) {
    await runInDurableObject(bindings.CONNECTION_HOST.get(bindings.CONNECTION_HOST.idFromName(host)), (instance: ConnectionHost) => {
      const { store } = instance as unknown as HostInside;
      for (let i = 0; i < PER_HOST + OUTSIDERS; i++) {
        const { frames } = store.peek(`${host}.session${i}`);
        if (i >= PER_HOST) {
          expect(frames).toEqual([]);
          continue;
        }
        expect(frames).toHaveLength(1);
        expect(frames[0]).toContain('"big",{"n":1}');
        delivered += 1;
      }
    });
  }
  expect(delivered).toBe(50_000);
}, 60_000);
