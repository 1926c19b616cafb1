/**
 * The default app (root wrangler.toml) with real socket.io-client: join policy (open, claim,
 * webhook, closed, reserved user rooms), room limits, relay of typing events, the per-connection
 * rate limit, emit to a user whose connections sit on different hosts, the dev token endpoint being off.
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyWebhookSignature } from "../../emitter/src/webhook";
import { hostOf } from "../helpers/clients";
import { ack, connectUser, count, hs256, TEST_JWT_SECRET, until, type Client } from "../helpers/default-app";
import { freePort, startService, type RunningService } from "../helpers/service";

const API_KEY = "test-api-key-0123456789abcdef";
const HOOK_SECRET = "join-webhook-secret-0123456789";

let service: RunningService;
let hookServer: Server;
const hookRequests: Array<{ body: any; signature: string | undefined; valid: boolean }> = [];
const clients: Client[] = [];

beforeAll(async () => {
  const hookPort = await freePort();
  hookServer = createServer((request, response) => {
    let raw = "";
    request.on("data", (chunk) => (raw += chunk));
    request.on("end", async () => {
      const body = JSON.parse(raw);
      const signature = request.headers["x-edgeio-signature"] as string | undefined;
      // The one format of every edgeio webhook (t=…,v1=…), checked as a backend would.
      const valid = await verifyWebhookSignature(HOOK_SECRET, signature, raw);
      hookRequests.push({ body, signature, valid });
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ allow: valid && body.room === "vip:granted" }));
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(hookPort, "127.0.0.1", resolve));
  service = await startService({
    config: "wrangler.toml",
    vars: {
      JWT_SECRET: TEST_JWT_SECRET,
      // Guests are opt-in (off by default, in development too); this file exercises them.
      ALLOW_GUESTS: "true",
      JOIN_POLICY: JSON.stringify({ "stream:*": "open", "conversation:*": "claim", "vip:*": "webhook", "small:*": "open" }),
      JOIN_WEBHOOK_URL: `http://127.0.0.1:${hookPort}/join`,
      JOIN_WEBHOOK_SECRET: HOOK_SECRET,
      ROOM_MAX_MEMBERS: 4,
      RATE_LIMIT_BURST: 10,
      RATE_LIMIT_PER_SECOND: 0.5,
      API_KEYS: API_KEY,
      PRESENCE_GRACE_MS: 200,
    },
  });
});
afterAll(async () => {
  for (const client of clients) client.socket.close();
  await service?.stop();
  await new Promise((resolve) => hookServer?.close(resolve));
});

async function user(sub: string, rooms: string[] = [], deviceId?: string): Promise<Client> {
  const token = await hs256({ sub, name: sub.toUpperCase(), rooms });
  const client = await connectUser(service.url, { auth: { token, ...(deviceId ? { deviceId } : {}) } });
  clients.push(client);
  return client;
}

async function guest(name?: string): Promise<Client> {
  const client = await connectUser(service.url, { auth: name ? { name } : {} });
  clients.push(client);
  return client;
}

describe("identity", () => {
  it("admits guests when ALLOW_GUESTS is set and gives each its own user", async () => {
    const a = await guest("Visitor");
    const b = await guest();
    expect(a.session).toMatchObject({ guest: true, user: { name: "Visitor" } });
    expect(a.session.user.id).toMatch(/^guest:/);
    expect(b.session.user.id).not.toBe(a.session.user.id);
  });

  it("does not serve POST /dev/token when a real JWT_SECRET is configured", async () => {
    // The service runs with JWT_SECRET; issuing and its limits are tested in test/security/e2e/jwt-attacks.test.ts.
    const response = await fetch(`${service.url}/dev/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Ada" }),
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "dev_token_disabled" } });
  });
});

describe("join policy", () => {
  it("lets anyone into an open room and acks with presence and counts", async () => {
    const a = await guest("A");
    const reply = await ack(a.socket, "room:join", "stream:news");
    expect(reply).toMatchObject({ ok: true, room: "stream:news", counts: { connections: 1, users: 1 } });
    expect(reply.presence).toEqual([
      {
        user: a.session.user,
        metas: [expect.objectContaining({ memberId: expect.any(String), deviceId: a.session.deviceId, state: null })],
      },
    ]);
    expect(JSON.stringify(reply)).not.toContain(a.socket.id);
    expect(await ack(a.socket, "room:leave", "stream:news")).toEqual({ ok: true, room: "stream:news" });
  });

  it("admits to a claim room only users whose token lists it", async () => {
    const member = await user("member", ["conversation:1"]);
    const outsider = await user("outsider", ["conversation:2"]);
    const wildcard = await user("wild", ["conversation:*"]);
    const anonymous = await guest();
    expect(await ack(member.socket, "room:join", "conversation:1")).toMatchObject({ ok: true });
    expect(await ack(wildcard.socket, "room:join", "conversation:1")).toMatchObject({ ok: true });
    expect(await ack(outsider.socket, "room:join", "conversation:1")).toMatchObject({ ok: false, error: "forbidden" });
    expect(await ack(anonymous.socket, "room:join", "conversation:1")).toMatchObject({ ok: false, error: "forbidden" });
    // A refused socket is not in the room: it hears nothing relayed there.
    await ack(member.socket, "typing:start", { room: "conversation:1" });
    await until(() => count(wildcard, "typing:start") === 1, "the relay to the member");
    expect(count(outsider, "typing:start")).toBe(0);
    // Nor may it see the room's presence.
    expect(await ack(outsider.socket, "presence:list", "conversation:1")).toMatchObject({ ok: false, error: "forbidden" });
  });

  it("asks the join webhook (signed) for webhook rooms", async () => {
    const a = await user("hooked");
    expect(await ack(a.socket, "room:join", "vip:granted")).toMatchObject({ ok: true });
    expect(await ack(a.socket, "room:join", "vip:denied")).toMatchObject({ ok: false, error: "forbidden" });
    const asked = hookRequests.filter((r) => r.body.user.id === "hooked");
    expect(asked.map((r) => r.body.room)).toEqual(["vip:granted", "vip:denied"]);
    expect(asked.every((r) => r.valid)).toBe(true);
  });

  it("refuses rooms no pattern opens, other users' rooms and invalid names", async () => {
    const a = await user("picky");
    expect(await ack(a.socket, "room:join", "secret:1")).toMatchObject({ ok: false, error: "forbidden" });
    expect(await ack(a.socket, "room:join", "user:someone-else")).toMatchObject({ ok: false, error: "forbidden" });
    expect(await ack(a.socket, "room:join", "bad room name!")).toMatchObject({ ok: false, error: "invalid_room" });
    expect(await ack(a.socket, "room:join", 42)).toMatchObject({ ok: false, error: "invalid_room" });
    expect(await ack(a.socket, "room:leave", "user:picky")).toMatchObject({ ok: false, error: "forbidden" });
  });

  it("refuses a join beyond ROOM_MAX_MEMBERS with room_full", async () => {
    const members = await Promise.all([1, 2, 3, 4].map((n) => guest(`crowd-${n}`)));
    for (const member of members) expect(await ack(member.socket, "room:join", "small:room")).toMatchObject({ ok: true });
    const late = await guest("late");
    expect(await ack(late.socket, "room:join", "small:room")).toMatchObject({ ok: false, error: "room_full" });
    expect((await ack(members[0].socket, "presence:list", "small:room")).counts).toEqual({ connections: 4, users: 4 });
    // The refused socket did not join locally either: relaying there is refused.
    late.socket.emit("typing:start", { room: "small:room" });
    const error = await new Promise<any>((resolve) => late.socket.once("edgeio:error", resolve));
    expect(error).toEqual({ code: "not_in_room", event: "typing:start", room: "small:room" });
  });
});

describe("relay", () => {
  it("relays typing events to the others in the room with the sender's user, sender excluded", async () => {
    const alice = await user("alice", [], "laptop");
    const bob = await user("bob");
    const carol = await user("carol");
    for (const client of [alice, bob, carol]) expect(await ack(client.socket, "room:join", "stream:chat")).toMatchObject({ ok: true });
    alice.socket.emit("typing:start", { room: "stream:chat", user: { id: "forged", name: "Forged" }, extra: 1 });
    const expected = { room: "stream:chat", extra: 1, user: { id: "alice", name: "ALICE" } };
    await until(() => count(bob, "typing:start") === 1 && count(carol, "typing:start") === 1, "typing:start at bob and carol");
    expect(bob.events.find(([name]) => name === "typing:start")![1]).toEqual(expected);
    expect(carol.events.find(([name]) => name === "typing:start")![1]).toEqual(expected);
    bob.socket.emit("typing:stop", { room: "stream:chat" });
    await until(() => count(alice, "typing:stop") === 1 && count(carol, "typing:stop") === 1, "typing:stop at alice and carol");
    expect(count(alice, "typing:start")).toBe(0);
    expect(count(bob, "typing:stop")).toBe(0);
  });

  it("refuses to relay to a room the sender is not in, and events off the allowlist", async () => {
    const a = await user("lonely");
    a.socket.emit("message:new", { room: "stream:elsewhere", text: "hi" });
    expect(await new Promise((resolve) => a.socket.once("edgeio:error", resolve))).toEqual({
      code: "not_in_room",
      event: "message:new",
      room: "stream:elsewhere",
    });
    expect(await ack(a.socket, "room:join", "stream:quiet")).toMatchObject({ ok: true });
    const b = await user("listener");
    expect(await ack(b.socket, "room:join", "stream:quiet")).toMatchObject({ ok: true });
    a.socket.emit("not:allowed", { room: "stream:quiet" });
    a.socket.emit("message:new", { room: "stream:quiet", text: "after" });
    await until(() => count(b, "message:new") === 1, "message:new at the listener");
    expect(count(b, "not:allowed")).toBe(0);
  });
});

describe("rate limit", () => {
  it("answers a flood with rate_limited and drops the excess", async () => {
    const flooder = await user("flooder");
    const witness = await user("witness");
    for (const client of [flooder, witness]) expect(await ack(client.socket, "room:join", "stream:flood")).toMatchObject({ ok: true });
    for (let i = 0; i < 30; i++) flooder.socket.emit("typing:start", { room: "stream:flood", i });
    const error = await new Promise<any>((resolve) => flooder.socket.once("edgeio:error", resolve));
    expect(error).toMatchObject({ code: "rate_limited", event: "typing:start" });
    expect(error.retryAfterMs).toBeGreaterThan(0);
    await until(() => count(flooder, "edgeio:error", (e) => e.code === "rate_limited") >= 15, "the rate_limited errors");
    // An ack-carrying event beyond the limit is answered too, so the client never hangs.
    expect(await ack(flooder.socket, "presence:list", "stream:flood")).toMatchObject({ ok: false, error: "rate_limited" });
    expect(count(witness, "typing:start")).toBeLessThan(30);
    expect(count(witness, "typing:start")).toBeGreaterThan(0);
    // Another connection has its own budget.
    expect(await ack(witness.socket, "presence:list", "stream:flood")).toMatchObject({ ok: true });
  });
});

describe("emit to a user", () => {
  it("reaches each connection of the user exactly once, across hosts", async () => {
    const tabs: Client[] = [];
    const hosts = new Set<string>();
    for (let attempt = 0; attempt < 60 && tabs.length < 3; attempt++) {
      const tab = await user("dora", ["conversation:*"], `device-${tabs.length}`);
      if (hosts.has(hostOf(tab.socket))) {
        tab.socket.close();
        continue;
      }
      hosts.add(hostOf(tab.socket));
      tabs.push(tab);
    }
    expect(hosts.size).toBe(3);
    for (const tab of tabs) expect(await ack(tab.socket, "room:join", "conversation:dora")).toMatchObject({ ok: true });
    const other = await user("someone");

    // Through the user room, and through the user room plus a room the same sockets are in: once each.
    for (const rooms of [["user:dora"], ["user:dora", "conversation:dora"]]) {
      const response = await fetch(`${service.url}/v1/emit`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ rooms, event: "notify", args: [{ rooms: rooms.length }] }),
      });
      expect(response.status).toBe(200);
    }
    await until(() => tabs.every((tab) => count(tab, "notify") === 2), "two notifications at every tab");
    const marker = await fetch(`${service.url}/v1/emit`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ rooms: ["user:dora"], event: "marker", args: [] }),
    });
    expect(marker.status).toBe(200);
    await until(() => tabs.every((tab) => count(tab, "marker") === 1), "the marker at every tab");
    for (const tab of tabs)
      expect(tab.events.filter(([name]) => name === "notify").map(([, p]) => p)).toEqual([{ rooms: 1 }, { rooms: 2 }]);
    expect(count(other, "notify")).toBe(0);

    // The UserDO knows the three connections and their devices.
    const info = await fetch(`${service.url}/v1/users/dora`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({
      id: "dora",
      online: true,
      connections: 3,
      devices: [
        { deviceId: "device-0", connections: 1 },
        { deviceId: "device-1", connections: 1 },
        { deviceId: "device-2", connections: 1 },
      ],
    });
  });
});
