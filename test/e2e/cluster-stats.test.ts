/**
 * Cluster metrics against the real service (wrangler dev, echo app, HOST_POOL_SIZE=3): real
 * socket.io-client sockets on 3 hosts in 2 namespaces, with users and rooms. `GET /v1/stats`
 * must match what the clients did within a report interval (polled with a deadline),
 * `GET /v1/metrics` must parse as Prometheus text with the same numbers, the echo app's own
 * `GET /health/websocket` must answer the same, and the API key rules hold.
 */
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClusterStats } from "../../durable-objects/stats/types";
import { connect, hostOf } from "../helpers/clients";
import { parsePrometheus, promValue } from "../helpers/prometheus";
import { startService, type RunningService } from "../helpers/service";

const KEY = "stats-full-key-aaaaaaaaaaaa";
const READ_KEY = "stats-read-key-bbbbbbbbbbbb";

let service: RunningService;
const sockets: Socket[] = [];
/** What the clients did, by namespace: sockets per host, users, rooms. */
const truth = { hosts: new Map<string, Record<string, number>>(), users: new Set<string>(), rooms: new Map<string, Set<string>>() };

async function joined(socket: Socket, nsp: string, user: string | null, rooms: string[]): Promise<Socket> {
  sockets.push(socket);
  const host = truth.hosts.get(hostOf(socket)) ?? {};
  host[nsp] = (host[nsp] ?? 0) + 1;
  truth.hosts.set(hostOf(socket), host);
  if (user) {
    await socket.timeout(5000).emitWithAck("set-data", "user", { id: user, name: user });
    truth.users.add(user);
  }
  // "/" joins one room per event, "/api" a list.
  if (nsp === "/") for (const room of rooms) await socket.timeout(5000).emitWithAck("join", room);
  else if (rooms.length > 0) await socket.timeout(5000).emitWithAck("join", rooms);
  const set = truth.rooms.get(nsp) ?? new Set<string>();
  for (const room of rooms) set.add(room);
  truth.rooms.set(nsp, set);
  return socket;
}

function expected() {
  const namespaces = [...truth.rooms.keys()].sort().map((namespace) => ({
    namespace,
    sockets: [...truth.hosts.values()].reduce((sum, host) => sum + (host[namespace] ?? 0), 0),
    rooms: truth.rooms.get(namespace)?.size ?? 0,
  }));
  return {
    // Every client here has its own Engine.IO connection.
    connections: sockets.length,
    sockets: sockets.length,
    users: truth.users.size,
    rooms: namespaces.reduce((sum, n) => sum + n.rooms, 0),
    namespaces,
    hosts: [...truth.hosts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([host, namespaces]) => ({ host, namespaces })),
  };
}

function numbers(s: ClusterStats) {
  return {
    connections: s.connections,
    sockets: s.sockets,
    users: s.users,
    rooms: s.rooms,
    namespaces: s.namespaces,
    hosts: s.hosts.map((h) => ({ host: h.host, namespaces: h.namespaces })),
  };
}

async function get(path: string, key: string | null): Promise<Response> {
  return fetch(`${service.url}${path}`, { headers: key ? { Authorization: `Bearer ${key}` } : {} });
}

async function stats(): Promise<ClusterStats> {
  const response = await get("/v1/stats", READ_KEY);
  expect(response.status).toBe(200);
  return (await response.json()) as ClusterStats;
}

/** Polls until `check` holds, up to a deadline (never a timed assertion on the way). */
async function until<T>(read: () => Promise<T>, check: (value: T) => boolean, deadlineMs = 10_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() - start > deadlineMs) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  // CONNECT_TIMEOUT: the helper's readiness probe opens an Engine.IO session that never connects a
  // namespace; it is a connection until the server closes it at the connect timeout.
  service = await startService({ vars: { API_KEYS: KEY, API_READ_KEYS: READ_KEY, HOST_POOL_SIZE: 3, CONNECT_TIMEOUT: 3000 } });
  const url = service.url;
  await joined(await connect(url, { transports: ["websocket"] }), "/", "ann", ["lobby", "r1"]);
  await joined(await connect(url, { transports: ["polling"] }), "/", "ann", ["lobby"]);
  await joined(await connect(url), "/", "bob", ["lobby", "r2"]);
  await joined(await connect(url), "/", "cid", []);
  await joined(await connect(url), "/", null, ["r3"]);
  // The echo app's "/api" sets no user: its sockets count as sockets and rooms only.
  await joined(await connect(`${url}/api`, { transports: ["websocket"] }), "/api", null, ["ops"]);
  await joined(await connect(`${url}/api`), "/api", null, ["ops", "audit"]);
  // Hosts are chosen at random: more plain sockets until all 3 have some. None is closed on the
  // way (a client that closes may leave its server session until the ping timeout).
  for (let i = 0; i < 40 && truth.hosts.size < 3; i++) await joined(await connect(url), "/", null, []);
}, 60_000);

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await service?.stop();
});

describe("cluster stats (real clients, 3 hosts)", () => {
  it("GET /v1/stats matches the real connections, users and rooms within a report interval", async () => {
    expect(truth.hosts.size).toBe(3);
    const last = await until(stats, (s) => JSON.stringify(numbers(s)) === JSON.stringify(expected()));
    expect(numbers(last)).toEqual(expected());
    expect(last).toMatchObject({ users: 3, rooms: 6, usersExact: true, roomsExact: true });
    expect(last.hosts).toHaveLength(3);
  });

  it("counts messages: 20 events from a client raise the received total by at least 20", async () => {
    const before = (await stats()).messages.inTotal;
    for (let i = 0; i < 20; i++) await sockets[0].timeout(5000).emitWithAck("echo", i);
    const after = await until(stats, (s) => s.messages.inTotal >= before + 20);
    expect(after.messages.inTotal).toBeGreaterThanOrEqual(before + 20);
    expect(after.messages.inPerMinute).toBeGreaterThanOrEqual(20);
    expect(after.messages.outTotal).toBeGreaterThanOrEqual(20);
  });

  it("GET /v1/metrics parses as Prometheus text with the same numbers", async () => {
    const json = await stats();
    const response = await get("/v1/metrics", READ_KEY);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheus(await response.text());
    expect(promValue(families, "edgeio_connections")).toBe(json.connections);
    expect(promValue(families, "edgeio_users")).toBe(json.users);
    expect(promValue(families, "edgeio_hosts")).toBe(3);
    for (const n of expected().namespaces) {
      expect(promValue(families, "edgeio_sockets", { namespace: n.namespace })).toBe(n.sockets);
      expect(promValue(families, "edgeio_rooms", { namespace: n.namespace })).toBe(n.rooms);
    }
    for (const { host, namespaces } of expected().hosts) {
      for (const [namespace, n] of Object.entries(namespaces)) {
        expect(promValue(families, "edgeio_host_sockets", { host, namespace })).toBe(n);
      }
    }
    expect(families.get("edgeio_messages_received_total")?.type).toBe("counter");
  });

  it("the app's GET /health/websocket answers the same numbers", async () => {
    const response = await get("/health/websocket", null);
    expect(response.status).toBe(200);
    expect(numbers((await response.json()) as ClusterStats)).toEqual(expected());
  });

  it("a read key works; no key or a wrong one is 401", async () => {
    for (const path of ["/v1/stats", "/v1/metrics"]) {
      expect((await get(path, READ_KEY)).status).toBe(200);
      const none = await get(path, null);
      expect(none.status).toBe(401);
      expect(((await none.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
      expect((await get(path, "wrong-key-wrong-key-wrong")).status).toBe(401);
    }
  });
});
