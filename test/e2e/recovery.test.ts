/**
 * Connection-state recovery with real socket.io-client 4.x (docs/recovery.md): the session is
 * dropped server-side (ENVIRONMENT=test route, the same path as a transport failure) while the
 * socket's room hears events from another socket and from POST /v1/emit. The client comes back
 * by itself with the same id, `recovered === true`, its rooms and data, and every missed event
 * once, in order; after the window, a fresh socket, and `recovery:expired` fired once.
 */
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../helpers/clients";
import { type RunningService, startService } from "../helpers/service";

const WINDOW_MS = 3000;
const KEY = "api-key-recovery-tests-0001";
let service: RunningService;

beforeAll(async () => {
  service = await startService({ environment: "test", vars: { RECOVERY_MAX_DISCONNECTION_MS: WINDOW_MS, API_KEYS: KEY } });
});
afterAll(async () => {
  await service?.stop();
});

async function post(path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${service.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", Authorization: `Bearer ${KEY}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function get(path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${service.url}${path}`, { headers: { Authorization: `Bearer ${KEY}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

/** Resolves once `check` holds, polling every 20 ms (rejects after `ms`); `refresh` runs before each check. */
async function until(check: () => boolean, ms = 8000, what = "condition", refresh?: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    await refresh?.();
    if (check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type Tick = { source: string; n: number; offset: unknown };

function record(socket: Socket): Tick[] {
  const ticks: Tick[] = [];
  socket.on("tick", (source: string, n: number, ...rest: unknown[]) => ticks.push({ source, n, offset: rest[rest.length - 1] }));
  return ticks;
}

describe.each(["websocket", "polling"] as const)("connection-state recovery over %s", (transport) => {
  it("comes back as itself: same id, rooms, data, every missed event once and in order", async () => {
    const room = `recovery-${transport}-${Math.random().toString(36).slice(2)}`;
    const client = await connect(service.url, {
      transports: [transport],
      reconnection: true,
      reconnectionDelay: 1500,
      reconnectionDelayMax: 1500,
      randomizationFactor: 0,
    });
    const sender = await connect(service.url, { transports: ["websocket"] });
    const ticks = record(client);
    await client.timeout(5000).emitWithAck("join", room);
    await client.timeout(5000).emitWithAck("set-data", "color", "blue");
    sender.emit("to-room", room, "tick", "socket", 0);
    await until(() => ticks.length === 1, 5000, "the live tick");
    const before = { id: client.id, sid: client.io.engine.id };
    expect(typeof ticks[0].offset).toBe("string"); // the offset Socket.IO appends to broadcasts

    const reason = new Promise<string>((resolve) => client.once("disconnect", resolve));
    await post(`/_edgeio/test/drop?sid=${encodeURIComponent(before.sid)}`);
    expect(await reason).toMatch(/^transport (close|error)$/);
    // While the client is away: three events from a socket, two through the HTTP API.
    for (const n of [1, 2, 3]) sender.emit("to-room", room, "tick", "socket", n);
    for (const n of [4, 5]) expect(await post("/v1/emit", { event: "tick", rooms: [room], args: ["http", n] })).toMatchObject({ ok: true });

    await new Promise<void>((resolve) => client.once("connect", () => resolve()));
    expect(client.io.engine.id).not.toBe(before.sid); // a new Engine.IO session…
    expect(client.id).toBe(before.id); // …the same socket
    expect(client.recovered).toBe(true);
    await until(() => ticks.length >= 6, 5000, "the missed ticks");
    const state = (await client.timeout(5000).emitWithAck("whoami-recovery")) as {
      id: string;
      recovered: boolean;
      rooms: string[];
      data: Record<string, unknown>;
    };
    // After that round trip anything sent twice would have arrived: exactly once, in order per sender.
    expect(ticks.map((tick) => `${tick.source}:${tick.n}`).sort()).toEqual([
      "http:4",
      "http:5",
      "socket:0",
      "socket:1",
      "socket:2",
      "socket:3",
    ]);
    expect(ticks.filter((tick) => tick.source === "socket").map((tick) => tick.n)).toEqual([0, 1, 2, 3]);
    expect(ticks.filter((tick) => tick.source === "http").map((tick) => tick.n)).toEqual([4, 5]);
    expect(ticks.every((tick) => typeof tick.offset === "string")).toBe(true);
    expect(state).toMatchObject({ id: before.id, recovered: true, data: { color: "blue" } });
    expect(state.rooms).toEqual(expect.arrayContaining([before.id, room]));

    // Still in its room, live again.
    sender.emit("to-room", room, "tick", "socket", 6);
    await until(() => ticks.length === 7, 5000, "a live tick after recovery");
    client.close();
    sender.close();
  }, 30_000);
});

describe("when the window ends without a reconnect", () => {
  it("keeps presence while recoverable, then fires recovery:expired once; the client then gets a fresh socket", async () => {
    const room = `recovery-expiry-${Math.random().toString(36).slice(2)}`;
    const watcher = await connect(service.url, { transports: ["websocket"] });
    await watcher.timeout(5000).emitWithAck("join", "recovery-watch");
    const expired: Array<{ id: string; reason: string; rooms: string[] }> = [];
    watcher.on("recovery:expired", (event: { id: string; reason: string; rooms: string[] }) => expired.push(event));
    const client = await connect(service.url, { transports: ["websocket"] });
    // A socket with data.user is a presence member of the rooms it joins.
    await client.timeout(5000).emitWithAck("set-data", "user", { id: "recovering-user", name: "R" });
    await client.timeout(5000).emitWithAck("join", room);
    const oldId = client.id!;
    const connections = async () => ((await get(`/v1/rooms/${room}/presence`)).counts as { connections: number }).connections;
    expect(await connections()).toBe(1);

    const gone = new Promise((resolve) => client.once("disconnect", resolve));
    await post(`/_edgeio/test/drop?sid=${encodeURIComponent(client.io.engine.id)}`);
    await gone;
    // Within the window the socket is still counted in its room (its events are kept for it).
    expect(await post("/v1/emit", { event: "tick", rooms: [room], args: ["http", 1] })).toMatchObject({ sockets: 1 });
    // Longer than the presence grace (PRESENCE_GRACE_MS, 200 ms in the echo config), shorter than the window: no flap.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await connections()).toBe(1);
    await until(() => expired.some((event) => event.id === oldId), WINDOW_MS + 5000, "recovery:expired");
    expect(await post("/v1/emit", { event: "tick", rooms: [room], args: ["http", 2] })).toMatchObject({ sockets: 0 });
    let left = -1;
    await until(
      () => left === 0,
      5000,
      "the presence member to leave",
      async () => {
        left = await connections();
      },
    );

    client.connect(); // the same client object: it sends its pid and offset, too late
    await new Promise<void>((resolve) => client.once("connect", () => resolve()));
    expect(client.id).not.toBe(oldId);
    expect(client.recovered).toBe(false);
    await watcher.timeout(5000).emitWithAck("echo", "round trip");
    expect(expired.filter((event) => event.id === oldId)).toEqual([{ id: oldId, reason: "expired", rooms: [room] }]);
    client.close();
    watcher.close();
  }, 30_000);
});
