/**
 * Lifecycle hooks (`defineApp(setup, { hooks })`, examples/hooks) and multi-namespace targets
 * (`POST /v1/emit` with `namespaces`), with real socket.io-client: a dashboard socket on `/admin`
 * hears users of `/` come online (first connection) and go offline (after the last, past the
 * grace period), devices come and go, and presence rooms fill and empty, once per edge, with no
 * backend involved. One service (examples/hooks/wrangler.toml: grace 200 ms).
 */
import { io, type Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, nextEvent, sleep } from "../helpers/clients";
import { startService, type RunningService } from "../helpers/service";

const KEY = "lifecycle-hooks-test-key-0123456789";
/** Longer than the grace period (200 ms) plus a hook's fan-out: an edge that was due has been heard by then. */
const SETTLE_MS = 1_500;

let service: RunningService;
let admin: Socket;
const heard: Array<{ event: string; payload: Record<string, unknown> }> = [];
const clients: Socket[] = [];

beforeAll(async () => {
  service = await startService({ config: "examples/hooks/wrangler.toml", vars: { API_KEYS: KEY } });
  admin = await connect(`${service.url}/admin`);
  admin.onAny((event: string, payload: Record<string, unknown>) => heard.push({ event, payload }));
}, 90_000);
afterAll(async () => {
  admin?.close();
  await service?.stop();
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

async function user(userId: string, deviceId: string): Promise<Socket> {
  const socket = io(service.url, { reconnection: false, forceNew: true, auth: { userId, deviceId } });
  clients.push(socket);
  // Listening before the connect: "tracked" may come in the same polling payload as the CONNECT.
  const tracked = nextEvent(socket, "tracked");
  await new Promise<void>((resolve, reject) => socket.once("connect", () => resolve()).once("connect_error", reject));
  await tracked;
  return socket;
}

/** What the dashboard heard of `event` about `key` (a user id or a room). */
function heardOf(event: string, key: string) {
  const about = (payload: Record<string, unknown>) => [payload.room, payload.user, (payload.user as { id?: unknown } | undefined)?.id];
  return heard.filter((h) => h.event === event && about(h.payload).includes(key));
}

async function until(check: () => boolean, what: string, timeoutMs = 8_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) if (check()) return;
  throw new Error(`timed out waiting for ${what}; heard: ${JSON.stringify(heard)}`);
}

function emitApi(body: unknown): Promise<Response> {
  return fetch(`${service.url}/v1/emit`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("lifecycle hooks", () => {
  it("userOnline on the first connection, userOffline only after the last one left (grace passed)", async () => {
    const online = nextEvent<{ user: { id: string }; devices: string[] }>(admin, "presence:online");
    const tab1 = await user("ann", "laptop");
    expect(await online).toEqual({ user: { id: "ann", name: "ann" }, devices: ["laptop"] });
    const tab2 = await user("ann", "laptop"); // a second tab: no edge
    const phone = await user("ann", "phone"); // a second device: a device edge, no user edge
    await until(() => heardOf("device:online", "ann").length === 2, "ann's phone");
    expect(heardOf("device:online", "ann").map((h) => h.payload.deviceId)).toEqual(["laptop", "phone"]);

    tab1.close();
    phone.close();
    await until(() => heardOf("device:offline", "ann").length === 1, "ann's phone offline");
    await sleep(SETTLE_MS);
    expect(heardOf("presence:offline", "ann")).toEqual([]); // tab2 is still connected
    expect(heardOf("device:offline", "ann").map((h) => h.payload.deviceId)).toEqual(["phone"]);

    tab2.close();
    await until(() => heardOf("presence:offline", "ann").length === 1, "ann offline");
    await sleep(SETTLE_MS);
    expect(heardOf("presence:online", "ann")).toHaveLength(1);
    expect(heardOf("presence:offline", "ann")).toHaveLength(1);
    expect(heardOf("device:offline", "ann").map((h) => h.payload.deviceId)).toEqual(["phone", "laptop"]);
  });

  it("roomOccupied and roomVacated fire once per edge, into /admin, the room itself and (of([...])) its namespace", async () => {
    const bob = await user("bob", "b1");
    const cid = await user("cid", "c1");
    const occupiedInRoom = nextEvent(bob, "room:occupied");
    await bob.emitWithAck("join", "lobby:1");
    await cid.emitWithAck("join", "lobby:1");
    await until(() => heardOf("room:occupied", "lobby:1").length === 1, "lobby:1 occupied");
    expect(await occupiedInRoom).toEqual({ room: "lobby:1" });

    await bob.emitWithAck("leave", "lobby:1");
    await sleep(SETTLE_MS);
    expect(heardOf("room:vacated", "lobby:1")).toEqual([]); // cid is still there
    const vacatedOnSlash = nextEvent(bob, "room:vacated", 8_000); // bob is out of the room, still on "/"
    cid.close();
    await until(() => heardOf("room:vacated", "lobby:1").length === 1, "lobby:1 vacated");
    expect(await vacatedOnSlash).toEqual({ room: "lobby:1" });
    await sleep(SETTLE_MS);
    expect(heardOf("room:occupied", "lobby:1")).toHaveLength(1);
    expect(heardOf("room:vacated", "lobby:1")).toHaveLength(1);
  });

  it("a hook that throws is retried (at least once) and then runs once", async () => {
    const dan = await user("dan", "d1");
    await dan.emitWithAck("join", "flaky:1");
    await until(() => heardOf("member:added", "flaky:1").length === 1, "the retried memberAdded");
    await sleep(SETTLE_MS);
    expect(heardOf("member:added", "flaky:1").map((h) => h.payload.attempt)).toEqual([2]);
  });
});

describe("POST /v1/emit with namespaces", () => {
  it("reaches the clients of every listed namespace", async () => {
    const eve = await user("eve", "e1");
    const other = await connect(`${service.url}/admin`);
    clients.push(other);
    const onSlash = nextEvent(eve, "notice");
    const onAdmin = nextEvent(other, "notice");
    const response = await emitApi({ namespaces: ["/", "/admin"], event: "notice", args: [{ n: 1 }] });
    expect(response.status).toBe(200);
    const result = (await response.json()) as { ok: boolean; sockets: number };
    expect(await onSlash).toEqual({ n: 1 });
    expect(await onAdmin).toEqual({ n: 1 });
    expect(result.ok).toBe(true);
    expect(result.sockets).toBeGreaterThanOrEqual(3); // eve, the dashboard, other (plus earlier tests' leftovers)
  });

  it.each([
    ["not an array", { namespaces: "/admin" }],
    ["empty", { namespaces: [] }],
    ["a name without /", { namespaces: ["/", "admin"] }],
    ["repeated", { namespaces: ["/", "/"] }],
    ["too many", { namespaces: Array.from({ length: 17 }, (_, i) => `/n${i}`) }],
    ["with namespace too", { namespace: "/", namespaces: ["/admin"] }],
  ])("a bad namespaces value (%s) is a 400 naming the field", async (_name, target) => {
    const response = await emitApi({ ...target, event: "notice" });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; issues: Array<{ path: unknown[] }> } };
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.issues.some((issue) => issue.path[0] === "namespaces")).toBe(true);
  });
});
