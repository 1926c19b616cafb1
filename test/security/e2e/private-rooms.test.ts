/**
 * Private targets stay private (hardening issue, item 1), with the default app and real
 * socket.io-client: a socket's own-id room and another user's `user:` room cannot be joined,
 * whatever the join policy says; what is sent to a socket id (HTTP API emits, UserDO device
 * announcements) reaches exactly that socket; and room names shaped like socket ids never make
 * the service address (and so create) a ConnectionHost a client made up.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ack, connectUser, count, hs256, sleep, TEST_JWT_SECRET, until, type Client } from "../../helpers/default-app";
import { startService, type RunningService } from "../../helpers/service";

const API_KEY = "private-rooms-api-key-0123456789";

let service: RunningService;
const clients: Client[] = [];

beforeAll(async () => {
  // The open "*" policy is the one that leaked: every room name is joinable as far as the app is concerned.
  service = await startService({
    config: "wrangler.toml",
    vars: { JWT_SECRET: TEST_JWT_SECRET, JOIN_POLICY: JSON.stringify({ "*": "open" }), API_KEYS: API_KEY, HOST_POOL_SIZE: 2 },
  });
});
afterAll(async () => {
  for (const client of clients) client.socket.close();
  await service?.stop();
});

async function user(sub: string, deviceId?: string): Promise<Client> {
  const token = await hs256({ sub, name: sub });
  const client = await connectUser(service.url, { auth: { token, ...(deviceId ? { deviceId } : {}) } });
  clients.push(client);
  return client;
}

async function emit(body: Record<string, unknown>) {
  const response = await fetch(`${service.url}/v1/emit`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as any };
}

/** How many ConnectionHost objects exist in local storage (one SQLite file each). */
function hostObjects(): number {
  const root = join(service.stateDir, "v3", "do");
  return readdirSync(root)
    .filter((dir) => dir.endsWith("-ConnectionHost"))
    .flatMap((dir) => readdirSync(join(root, dir)).filter((file) => file.endsWith(".sqlite"))).length;
}

describe("a socket's own-id room", () => {
  it("cannot be joined by another client, so HTTP API emits and device announcements reach only that socket", async () => {
    const victim = await user("victim", "victim-laptop");
    const attacker = await user("attacker");

    const join = await ack(attacker.socket, "room:join", victim.socket.id);
    expect(join).toMatchObject({ ok: false, error: "forbidden" });
    expect(await ack(attacker.socket, "presence:list", "lobby")).toMatchObject({ ok: true }); // still connected and served

    const sent = await emit({ rooms: [victim.socket.id], event: "private", args: ["for the victim only"] });
    expect(sent.status).toBe(200);
    await until(() => count(victim, "private") === 1, "the victim's private message");

    // The victim signs in on a second device: UserDO announces it to the victim's socket id.
    await user("victim", "victim-phone");
    await until(() => count(victim, "user:device:online") === 1, "the victim's device announcement");

    await sleep(300);
    expect(count(attacker, "private")).toBe(0);
    expect(count(attacker, "user:device:online")).toBe(0);
  });

  it("cannot be joined through socketsJoin from the HTTP API either", async () => {
    const victim = await user("victim2");
    const bystander = await user("bystander");
    const response = await fetch(`${service.url}/v1/sockets/join`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ rooms: [bystander.socket.id], room: victim.socket.id }),
    });
    expect(response.status).toBeLessThan(500);
    await response.arrayBuffer();
    await emit({ rooms: [victim.socket.id], event: "private2", args: [1] });
    await until(() => count(victim, "private2") === 1, "the victim's message");
    await sleep(300);
    expect(count(bystander, "private2")).toBe(0);
  });
});

describe("another user's room", () => {
  it("cannot be joined, and the user's own room still works", async () => {
    const alice = await user("alice");
    const mallory = await user("mallory");
    expect(await ack(mallory.socket, "room:join", "user:alice")).toMatchObject({ ok: false, error: "forbidden" });
    expect(await emit({ users: ["alice"], event: "for-alice", args: [] })).toMatchObject({ status: 200 });
    await until(() => count(alice, "for-alice") === 1, "alice's user-room message");
    await sleep(300);
    expect(count(mallory, "for-alice")).toBe(0);
  });
});

describe("room names shaped like socket ids", () => {
  it("never instantiate a ConnectionHost a client made up (joins and HTTP API emits)", async () => {
    const probe = await user("prober");
    const before = hostObjects();
    expect(before).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) {
      const host = Buffer.from(`evil:${i}`).toString("base64url");
      const forged = `${host}.${"A".repeat(20)}`;
      expect(await ack(probe.socket, "room:join", forged)).toMatchObject({ ok: false, error: "forbidden" });
      expect((await emit({ rooms: [forged], event: "x", args: [] })).status).toBe(200);
    }
    // A socket id of a real host with a made-up random part is refused just the same.
    const realHost = probe.socket.id!.split(".")[0];
    expect(await ack(probe.socket, "room:join", `${realHost}.${"B".repeat(20)}`)).toMatchObject({ ok: false, error: "forbidden" });
    await sleep(300);
    expect(hostObjects()).toBe(before);
  });
});
