/**
 * Presence in the default app with real socket.io-client: multi-tab and multi-device users are
 * announced on the edges only, after the grace period, and a client that stops answering pings
 * is announced gone exactly once. Presence never discloses a socket id: what members see cannot
 * be used as a delivery address.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ack, connectUser, count, hs256, sleep, TEST_JWT_SECRET, until, type Client } from "../helpers/default-app";
import { nextEvent } from "../helpers/clients";
import { startService, type RunningService } from "../helpers/service";

const GRACE_MS = 1_500;
const API_KEY = "presence-test-api-key-0123456789";
const ROOM = "conversation:1";

let service: RunningService;
const clients: Client[] = [];

beforeAll(async () => {
  service = await startService({
    config: "wrangler.toml",
    vars: {
      API_KEYS: API_KEY,
      JWT_SECRET: TEST_JWT_SECRET,
      PRESENCE_GRACE_MS: GRACE_MS,
      PRESENCE_LEASE_MS: 2_000,
      PING_INTERVAL: 500,
      PING_TIMEOUT: 400,
    },
  });
});
afterAll(async () => {
  for (const client of clients) client.socket.close();
  await service?.stop();
});

async function open(sub: string, deviceId: string | undefined, room = ROOM): Promise<Client> {
  const token = await hs256({ sub, name: sub.toUpperCase(), rooms: ["conversation:*"] });
  const client = await connectUser(service.url, { auth: deviceId === undefined ? { token } : { token, deviceId } });
  clients.push(client);
  const reply = await ack(client.socket, "room:join", room);
  expect(reply.ok).toBe(true);
  return client;
}

/**
 * A marker user joins and leaves; once the observer has heard both, every announcement the
 * room decided before them has arrived (a RoomDO sends its announcements in order).
 */
async function barrier(observer: Client, room = ROOM): Promise<void> {
  const id = `marker-${Math.random().toString(36).slice(2, 8)}`;
  const marker = await open(id, "m", room);
  await until(() => count(observer, "presence:join", (p) => p.user.id === id) === 1, `${id}'s presence:join`);
  marker.socket.close();
  await until(() => count(observer, "presence:leave", (p) => p.user.id === id) === 1, `${id}'s presence:leave`);
}

const joins = (client: Client, user: string) => count(client, "presence:join", (p) => p.user.id === user && p.room === ROOM);
const leaves = (client: Client, user: string) => count(client, "presence:leave", (p) => p.user.id === user && p.room === ROOM);
const devicesSeen = (client: Client, user: string) => {
  const updates = client.events.filter(([name, p]: [string, any]) => name === "presence:update" && p.user.id === user);
  const last = updates[updates.length - 1]?.[1] as { metas: Array<{ deviceId: string }> } | undefined;
  return last ? [...new Set(last.metas.map((m) => m.deviceId))].sort() : [];
};

describe("multi-tab, multi-device user", () => {
  it("is announced on its edges only, after the grace period", async () => {
    const observer = await open("observer", "o1");

    // U: three tabs on D1, one on D2.
    const d1 = [await open("u", "D1"), await open("u", "D1"), await open("u", "D1")];
    const d2 = await open("u", "D2");
    const list = await ack(observer.socket, "presence:list", ROOM);
    const u = list.presence.find((entry: any) => entry.user.id === "u");
    expect(u.metas).toHaveLength(4);
    expect(u.metas.map((m: any) => m.deviceId).sort()).toEqual(["D1", "D1", "D1", "D2"]);
    expect(list.counts).toEqual({ connections: 5, users: 2 });
    await barrier(observer);
    expect(joins(observer, "u")).toBe(1);
    // The second device showed up as an update, not as another join.
    expect(devicesSeen(observer, "u")).toEqual(["D1", "D2"]);

    // Closing two of the D1 tabs: nothing to announce.
    d1[0].socket.close();
    d1[1].socket.close();
    // Closing D2: a device-offline (to the room as an update, to U's other tabs as user:device:offline), no leave.
    d2.socket.close();
    await until(() => count(d1[2], "user:device:offline", (p) => p.deviceId === "D2") === 1, "U's device-offline for D2");
    await until(() => devicesSeen(observer, "u").join() === "D1", "the room's update without D2");
    await barrier(observer);
    expect(leaves(observer, "u")).toBe(0);
    expect(joins(observer, "u")).toBe(1);

    // A reload within the grace period: the last tab closes and a new one (same device) comes back.
    const updatesBefore = count(observer, "presence:update", (p) => p.user.id === "u");
    d1[2].socket.close();
    const reloaded = await open("u", "D1");
    await sleep(GRACE_MS * 2);
    await barrier(observer);
    expect(leaves(observer, "u")).toBe(0);
    expect(joins(observer, "u")).toBe(1);
    expect(count(observer, "presence:update", (p) => p.user.id === "u")).toBe(updatesBefore);

    // The last connection closes: exactly one leave, after the grace period.
    reloaded.socket.close();
    await until(() => leaves(observer, "u") === 1, "U's presence:leave");
    await barrier(observer);
    expect(leaves(observer, "u")).toBe(1);
    const after = await ack(observer.socket, "presence:list", ROOM);
    expect(after.presence.map((entry: any) => entry.user.id)).toEqual(["observer"]);
  });

  it("carries custom state set by the client to the room as presence:update", async () => {
    const room = "conversation:state";
    const observer = await open("watcher", "w1", room);
    const writer = await open("writer", "w2", room);
    expect(await ack(writer.socket, "presence:set", { room, state: { status: "away" } })).toEqual({ ok: true });
    await until(
      () => count(observer, "presence:update", (p) => p.user.id === "writer" && p.metas[0]?.state?.status === "away") === 1,
      "the state update",
    );
    const list = await ack(observer.socket, "presence:list", room);
    expect(list.presence.find((e: any) => e.user.id === "writer").metas[0].state).toEqual({ status: "away" });
    const tooBig = await ack(writer.socket, "presence:set", { room, state: "x".repeat(5_000) });
    expect(tooBig).toMatchObject({ ok: false, error: "state_too_large" });
  });
});

describe("ghosts", () => {
  it("announces once, and empties presence, when a client stops answering pings", async () => {
    const room = "conversation:ghost";
    const observer = await open("keeper", "k1", room);
    const ghost = await open("ghost", "g1", room);
    await until(() => count(observer, "presence:join", (p) => p.user.id === "ghost") === 1, "the ghost's join");

    // The ghost's engine keeps its transport open but never answers a ping again.
    const engine = ghost.socket.io.engine as unknown as { _sendPacket: (type: string, ...rest: unknown[]) => void };
    const send = engine._sendPacket.bind(engine);
    engine._sendPacket = (type: string, ...rest: unknown[]) => {
      if (type !== "pong") send(type, ...rest);
    };

    await until(() => count(observer, "presence:leave", (p) => p.user.id === "ghost") === 1, "the ghost's leave");
    const list = await ack(observer.socket, "presence:list", room);
    expect(list.presence.map((entry: any) => entry.user.id)).toEqual(["keeper"]);
    await barrier(observer, room);
    expect(count(observer, "presence:leave", (p) => p.user.id === "ghost")).toBe(1);
  });
});

describe("what presence reveals", () => {
  const emit = async (body: Record<string, unknown>) => {
    const response = await fetch(`${service.url}/v1/emit`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { sockets: number };
  };

  it("shows no socket id to other members, and its ids reach nobody through /v1/emit", async () => {
    const room = "conversation:ids";
    const other = "conversation:ids-2";
    const observer = await open("seer", "s1", room);
    // One tab names its device, one does not (the app then picks an opaque device id).
    const named = await open("target", "laptop", room);
    const anonymous = await open("target", undefined, room);
    expect(anonymous.session.deviceId).not.toBe(anonymous.socket.id);
    await until(() => count(observer, "presence:update", (p) => p.user.id === "target") >= 1, "the second device's update");
    expect(await ack(anonymous.socket, "room:join", other)).toMatchObject({ ok: true });

    const list = await ack(observer.socket, "presence:list", room);
    const joinAck = await ack(named.socket, "room:join", room);
    const seen = {
      list,
      joinAck,
      otherRoom: await ack(observer.socket, "presence:list", other),
      observerEvents: observer.events,
      targetEvents: [...named.events, ...anonymous.events],
    };
    // No socket id anywhere in what any of these clients received, as a field or inside one.
    const text = JSON.stringify(seen);
    for (const client of clients) expect(text).not.toContain(client.socket.id!);

    const metas: Array<{ memberId: string; deviceId: string }> = list.presence.find((e: any) => e.user.id === "target").metas;
    expect(metas.map((m) => m.deviceId).sort()).toEqual([anonymous.session.deviceId, "laptop"].sort());
    const memberIds = metas.map((m) => m.memberId);
    expect(new Set(memberIds).size).toBe(2);
    // Stable: the same connection has the same id in every list of the room …
    expect(joinAck.presence.find((e: any) => e.user.id === "target").metas.map((m: any) => m.memberId)).toEqual(memberIds);
    // … and another id in another room (members of two rooms cannot be linked by it).
    const elsewhere = seen.otherRoom.presence.find((e: any) => e.user.id === "target").metas[0].memberId;
    expect(memberIds).not.toContain(elsewhere);

    // Every id presence handed out, used as a target, reaches no socket.
    const probes = [...memberIds, elsewhere, anonymous.session.deviceId, ...metas.map((m) => m.deviceId)];
    for (const id of probes) expect((await emit({ rooms: [id], event: "probe", args: [id] })).sockets).toBe(0);
    // Barrier: a real delivery to the same user after the probes; events arrive in order.
    const delivered = [nextEvent(named.socket, "after-probes"), nextEvent(anonymous.socket, "after-probes")];
    expect((await emit({ users: ["target"], event: "after-probes", args: [] })).sockets).toBe(2);
    await Promise.all(delivered);
    for (const client of clients) expect(count(client, "probe")).toBe(0);
  });
});
