/**
 * The stats aggregator (a RoomDO under a reserved name) fed synthetic host reports: unions of
 * users and rooms across hosts, upper bounds when a host listed too many, hosts that report no
 * sessions removed, silent hosts aged out, monotonic message totals, and invalid reports refused.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EdgeioBindings } from "../../durable-objects/bindings";
import { statsStub } from "../../durable-objects/stats/stub";
import type { ClusterStats, HostLoad } from "../../durable-objects/stats/types";
import { eventually } from "./presence-client";

const stub = statsStub(env as unknown as EdgeioBindings);
const read = async () => (await stub.clusterStats()) as ClusterStats;

function report(host: string, load: Partial<HostLoad> = {}): HostLoad {
  return {
    host,
    at: Date.now(),
    sessions: 1,
    namespaces: [{ nsp: "/", sockets: 1, rooms: 1 }],
    users: ["ann"],
    userCount: 1,
    rooms: [JSON.stringify(["/", "lobby"])],
    roomCount: 1,
    messages: { in: 0, out: 0 },
    ...load,
  };
}

describe("stats aggregator", () => {
  it("adds hosts up: users and rooms are unions, exact while every host listed its ids", async () => {
    await stub.reportLoad(report("agg:a", { users: ["ann", "bob"], userCount: 2, messages: { in: 5, out: 7 } }));
    await stub.reportLoad(
      report("agg:b", {
        sessions: 2,
        namespaces: [
          { nsp: "/", sockets: 2, rooms: 2 },
          { nsp: "/chat", sockets: 1, rooms: 1 },
        ],
        users: ["ann", "cid"],
        userCount: 2,
        rooms: [JSON.stringify(["/", "lobby"]), JSON.stringify(["/", "r1"]), JSON.stringify(["/chat", "lobby"])],
        roomCount: 3,
        messages: { in: 3, out: 1 },
      }),
    );
    const stats = await read();
    expect(stats).toMatchObject({ connections: 3, sockets: 4, users: 3, usersExact: true, rooms: 3, roomsExact: true });
    expect(stats.namespaces).toEqual([
      { namespace: "/", sockets: 3, rooms: 2 },
      { namespace: "/chat", sockets: 1, rooms: 1 },
    ]);
    expect(stats.messages).toEqual({ inPerMinute: 8, outPerMinute: 8, inTotal: 8, outTotal: 8 });
    expect(stats.startedAt).not.toBeNull();
  });

  it("a host that listed no ids makes the totals upper bounds", async () => {
    await stub.reportLoad(report("agg:c", { users: null, userCount: 6000, rooms: null, roomCount: 7000 }));
    const stats = await read();
    expect(stats).toMatchObject({ users: 3 + 6000, usersExact: false, rooms: 3 + 7000, roomsExact: false });
    await stub.reportLoad(report("agg:c", { sessions: 0, namespaces: [], users: [], userCount: 0, rooms: [], roomCount: 0 }));
    expect(await read()).toMatchObject({ users: 3, usersExact: true, connections: 3 });
    expect((await read()).hosts.map((h) => h.host)).toEqual(["agg:a", "agg:b"]);
  });

  it("an older report does not replace a newer one; message counts still add up", async () => {
    await stub.reportLoad(report("agg:a", { at: Date.now() - 60_000, sessions: 9, messages: { in: 2, out: 0 } }));
    const stats = await read();
    expect(stats.hosts.find((h) => h.host === "agg:a")?.connections).toBe(1);
    expect(stats.messages.inTotal).toBe(10);
  });

  it("refuses an invalid report", async () => {
    expect(await stub.reportLoad({ ...report("agg:x"), sessions: -1 })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^sessions:/),
    });
    const tooMany = Array.from({ length: 5001 }, (_, i) => `u${i}`);
    expect(await stub.reportLoad({ ...report("agg:x"), users: tooMany })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^users:/),
    });
    expect((await read()).hosts.some((h) => h.host === "agg:x")).toBe(false);
  });

  it("ages out hosts that stopped reporting (3 lease periods + ping interval and timeout)", async () => {
    // The echo fixture: PRESENCE_LEASE_MS 1500, PING_INTERVAL 300, PING_TIMEOUT 200 → 6 s.
    await eventually(async () => (await read()).hosts.length === 0, "silent hosts to age out", 12_000);
    const stats = await read();
    expect(stats).toMatchObject({ connections: 0, sockets: 0, users: 0, startedAt: null });
    expect(stats.messages.inTotal).toBe(10); // totals are monotonic: they outlive the hosts
  }, 20_000);
});
