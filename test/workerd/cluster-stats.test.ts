/**
 * Cluster metrics (`GET /v1/stats`, `GET /v1/metrics`, `clusterStats(env)` in an app's own
 * route) inside workerd with the echo app: sockets on 3 hosts in 2 namespaces, with users and
 * rooms. The numbers must match the real ones after at most one report interval (polled with a
 * deadline), and reading them must not call or wake any ConnectionHost (counted).
 */
import { createExecutionContext, env, evictDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EdgeioBindings } from "../../durable-objects/bindings";
import type { ClusterStats } from "../../durable-objects/stats/types";
import { clusterStats, createWorker, defineApp } from "../../worker/edgeio";
import { parsePrometheus, promValue } from "../helpers/prometheus";
import { eventually, RawClient } from "./presence-client";

const KEY = "metrics-full-key-0123456789";
const READ_KEY = "metrics-read-key-0123456789";
const HOSTS = ["metrics:0", "metrics:1", "metrics:2"];

// The custom app of issue 15: its own GET /health/websocket answers the cluster's stats.
const app = defineApp(() => {}, {
  routes: (http) => {
    http.get("/health/websocket", async (c) => c.json(await clusterStats(c.env)));
  },
});

type WorkerEnv = Parameters<ReturnType<typeof createWorker>["handler"]["fetch"]>[1];
const baseEnv = { ...(env as unknown as Record<string, unknown>), API_KEYS: KEY, API_READ_KEYS: READ_KEY };

/** The env with every call to a ConnectionHost counted (what the Worker could call to read stats). */
function countingEnv(): { env: WorkerEnv; hostCalls: () => number } {
  let calls = 0;
  const hosts = (env as unknown as EdgeioBindings).CONNECTION_HOST;
  const counted = new Proxy(hosts, {
    get(target, prop) {
      const member = Reflect.get(target, prop) as (...args: unknown[]) => unknown;
      if (typeof member !== "function") return member;
      return (...args: unknown[]) => {
        const value = Reflect.apply(member, target, args);
        // A stub alone calls nothing: every method called on one is counted.
        if (prop !== "get") return value;
        return new Proxy(value as object, {
          get(stub, method) {
            const fn = Reflect.get(stub, method) as unknown;
            if (typeof fn !== "function") return fn;
            return (...inner: unknown[]) => {
              calls += 1;
              return Reflect.apply(fn as (...a: unknown[]) => unknown, stub, inner);
            };
          },
        });
      };
    },
  });
  return { env: { ...baseEnv, CONNECTION_HOST: counted } as unknown as WorkerEnv, hostCalls: () => calls };
}

async function request(path: string, key: string | null, workerEnv = baseEnv as unknown as WorkerEnv): Promise<Response> {
  const ctx = createExecutionContext();
  const headers: Record<string, string> = key ? { Authorization: `Bearer ${key}` } : {};
  const response = await createWorker(app).handler.fetch(new Request(`http://edgeio.test${path}`, { headers }), workerEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

async function stats(key = READ_KEY): Promise<ClusterStats> {
  const response = await request("/v1/stats", key);
  expect(response.status).toBe(200);
  return response.json();
}

/** The numbers that must match (the rest are times). */
function numbers(s: ClusterStats) {
  return {
    connections: s.connections,
    sockets: s.sockets,
    users: s.users,
    rooms: s.rooms,
    exact: s.usersExact && s.roomsExact,
    namespaces: s.namespaces,
    hosts: s.hosts.map((h) => ({ host: h.host, connections: h.connections, sockets: h.sockets, namespaces: h.namespaces })),
  };
}

/** A raw client on `host`, as user `user` (if any), in `rooms` of "/", plus a socket in "/api" joined to `apiRooms`. */
async function client(host: string, user: string | null, rooms: string[], apiRooms?: string[]): Promise<RawClient> {
  const c = await RawClient.open(host);
  if (user) await c.call("set-data", "user", { id: user, name: user });
  for (const room of rooms) await c.call("join", room);
  if (apiRooms) {
    c.ws.send("40/api,");
    await c.frame((f) => f.startsWith("40/api,{"));
    c.ws.send(`42/api,900${JSON.stringify(["join", apiRooms])}`);
    await c.frame((f) => f.startsWith("43/api,900["));
  }
  return c;
}

const clients: RawClient[] = [];
afterAll(() => {
  for (const c of clients.splice(0)) c.close();
});

// 6 connections on 3 hosts; "/" has 6 sockets, "/api" 2; users ann, bob, cid, dan (ann on two
// hosts); rooms in "/": lobby, r0, r1, r2 (lobby on every host), in "/api": ops (on two hosts).
const expected = {
  connections: 6,
  sockets: 8,
  users: 4,
  rooms: 5,
  exact: true,
  namespaces: [
    { namespace: "/", sockets: 6, rooms: 4 },
    { namespace: "/api", sockets: 2, rooms: 1 },
  ],
  hosts: [
    { host: "metrics:0", connections: 2, sockets: 2, namespaces: { "/": 2 } },
    { host: "metrics:1", connections: 2, sockets: 3, namespaces: { "/": 2, "/api": 1 } },
    { host: "metrics:2", connections: 2, sockets: 3, namespaces: { "/": 2, "/api": 1 } },
  ],
};

describe("cluster stats", () => {
  beforeAll(async () => {
    clients.push(
      await client(HOSTS[0], "ann", ["lobby", "r0"]),
      await client(HOSTS[0], "bob", ["lobby"]),
      await client(HOSTS[1], "ann", ["lobby", "r1"], ["ops"]),
      await client(HOSTS[1], "cid", []),
      await client(HOSTS[2], "dan", ["r2", "lobby"], ["ops"]),
      await client(HOSTS[2], null, ["lobby"]),
    );
  }, 30_000);

  it("/v1/stats matches the real connections, sockets, users and rooms within a report interval", async () => {
    let last: ClusterStats | undefined;
    await eventually(async () => {
      last = await stats();
      return JSON.stringify(numbers(last)) === JSON.stringify(expected);
    }, "stats to match").catch((error) => {
      expect(last && numbers(last)).toEqual(expected);
      throw error;
    });
    expect(last?.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(last?.startedAt).not.toBeNull();
    // Every client sent its CONNECT and acked events: at least that many messages came in.
    expect(last?.messages.inTotal).toBeGreaterThanOrEqual(6 + 9 + 4);
    expect(last?.messages.inPerMinute).toBeGreaterThanOrEqual(6 + 9 + 4);
    expect(last?.messages.outTotal).toBeGreaterThanOrEqual(6 * 2 + 9 + 4);
  }, 20_000);

  it("/v1/metrics is Prometheus text with the same numbers", async () => {
    const json = await stats();
    const response = await request("/v1/metrics", READ_KEY);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheus(await response.text());
    expect(families.get("edgeio_connections")?.type).toBe("gauge");
    expect(families.get("edgeio_messages_received_total")?.type).toBe("counter");
    expect(promValue(families, "edgeio_connections")).toBe(json.connections);
    expect(promValue(families, "edgeio_users")).toBe(json.users);
    expect(promValue(families, "edgeio_hosts")).toBe(3);
    for (const n of json.namespaces) {
      expect(promValue(families, "edgeio_sockets", { namespace: n.namespace })).toBe(n.sockets);
      expect(promValue(families, "edgeio_rooms", { namespace: n.namespace })).toBe(n.rooms);
    }
    for (const h of json.hosts) {
      expect(promValue(families, "edgeio_host_connections", { host: h.host })).toBe(h.connections);
      for (const [namespace, n] of Object.entries(h.namespaces)) {
        expect(promValue(families, "edgeio_host_sockets", { host: h.host, namespace })).toBe(n);
      }
    }
    expect(promValue(families, "edgeio_messages_received_total")).toBeGreaterThanOrEqual(json.messages.inTotal);
  });

  it("a read key or a full key may read; no key or a wrong one is 401", async () => {
    for (const path of ["/v1/stats", "/v1/metrics"]) {
      expect((await request(path, READ_KEY)).status).toBe(200);
      expect((await request(path, KEY)).status).toBe(200);
      const none = await request(path, null);
      expect(none.status).toBe(401);
      expect(((await none.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
      expect((await request(path, "not-a-key-not-a-key")).status).toBe(401);
    }
  });

  it("the custom app's GET /health/websocket answers the same numbers", async () => {
    const response = await request("/health/websocket", null);
    expect(response.status).toBe(200);
    expect(numbers((await response.json()) as ClusterStats)).toEqual(numbers(await stats()));
    expect(numbers(await stats())).toEqual(expected);
  });

  it("reading the stats calls no ConnectionHost and wakes no hibernated one", async () => {
    const hostStub = (host: string) => env.CONNECTION_HOST.get(env.CONNECTION_HOST.idFromName(host));
    // What each host has been woken for but its alarm (persisted: survives eviction).
    const wakes = async () =>
      Promise.all(
        HOSTS.map(async (host) => {
          const s = await hostStub(host).stats();
          return { host, events: s.wakes - s.alarms };
        }),
      );
    for (const host of HOSTS) await evictDurableObject(hostStub(host));
    const before = await wakes();
    const counting = countingEnv();
    for (let i = 0; i < 5; i++) {
      for (const path of ["/v1/stats", "/v1/metrics"]) expect((await request(path, READ_KEY, counting.env)).status).toBe(200);
      expect((await request("/health/websocket", null, counting.env)).status).toBe(200);
    }
    expect(counting.hostCalls()).toBe(0);
    expect(await wakes()).toEqual(before);
    // No RPC reached a host's instance either (the aggregator never calls hosts).
    for (const host of HOSTS) expect((await hostStub(host).stats()).work.invocations.rpc).toBe(0);
  });

  it("an invalid STATS_REPORT_MS answers 500 invalid_configuration naming it", async () => {
    const response = await request("/v1/stats", READ_KEY, { ...baseEnv, STATS_REPORT_MS: "5" } as unknown as WorkerEnv);
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { code: string; issues: string[] } };
    expect(body.error.code).toBe("invalid_configuration");
    expect(body.error.issues.join("\n")).toMatch(/^STATS_REPORT_MS:/m);
  });

  it("a host whose sockets all left is dropped within a report interval", async () => {
    for (const c of clients.filter((c) => c.host === HOSTS[0])) c.close();
    await eventually(async () => !(await stats()).hosts.some((h) => h.host === HOSTS[0]), "the emptied host to go");
    const after = await stats();
    expect(after.connections).toBe(4);
    expect(after.users).toBe(3); // bob is gone; ann is still on metrics:1
    expect(after.namespaces.find((n) => n.namespace === "/")?.rooms).toBe(3); // r0 is gone
  }, 20_000);
});
