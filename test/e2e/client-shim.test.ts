/**
 * The client-shim's own logic (token refresh, server:shutdown, rooms and their live presence,
 * device ids) in Node, against a real socket.io server that speaks the default app's contract
 * and can do what edgeio cannot be told to do on demand (reject a token, announce a shutdown).
 * The shim against the real edgeio service is covered in a real browser by browser.test.ts.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, type Socket as ServerSocket } from "socket.io";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, persistentDeviceId, type EdgeSocket, type PresenceEntry } from "../../client-shim/src/index";

interface Entry {
  user: { id: string; name: string };
  socketId: string;
  deviceId: string;
  state: unknown;
}

/** A small in-memory implementation of the server contract the shim codes against. */
function contractServer(io: Server) {
  const members = new Map<string, Map<string, Entry>>(); // room -> socketId -> entry
  const joins: Array<{ room: string; socketId: string }> = [];
  const presenceOf = (room: string): PresenceEntry[] => {
    const byUser = new Map<string, PresenceEntry>();
    for (const entry of members.get(room)?.values() ?? []) {
      const item = byUser.get(entry.user.id) ?? { user: entry.user, metas: [] };
      // As the real server: an opaque member id, never the socket id.
      item.metas.push({ memberId: `m-${entry.socketId}`, deviceId: entry.deviceId, joinedAt: 0, state: entry.state });
      byUser.set(entry.user.id, item);
    }
    return [...byUser.values()];
  };
  const metasOf = (room: string, userId: string) => presenceOf(room).find((e) => e.user.id === userId)?.metas ?? [];
  const leave = (socket: ServerSocket, room: string) => {
    const entry = members.get(room)?.get(socket.id);
    if (!entry) return;
    members.get(room)!.delete(socket.id);
    socket.leave(room);
    const metas = metasOf(room, entry.user.id);
    if (metas.length === 0) io.to(room).emit("presence:leave", { room, user: entry.user });
    else io.to(room).emit("presence:update", { room, user: entry.user, metas });
  };

  io.use((socket, next) => {
    const token = socket.handshake.auth.token as string | undefined;
    if (token === undefined || token.startsWith("good:")) return next();
    next(Object.assign(new Error("unauthorized"), { data: { code: token === "expired" ? "token_expired" : "invalid_token" } }));
  });
  io.on("connection", (socket) => {
    const token = socket.handshake.auth.token as string | undefined;
    const name = token ? token.slice(5) : `guest-${socket.id.slice(0, 4)}`;
    const user = { id: name, name };
    const deviceId = String(socket.handshake.auth.deviceId);
    let defaultState: unknown = null; // set by presence:set without a room; applies to later joins
    socket.emit("hello", { deviceId, token });

    socket.on("room:join", (room: string, ack: (reply: unknown) => void) => {
      joins.push({ room, socketId: socket.id });
      if (!members.has(room)) members.set(room, new Map());
      members.get(room)!.set(socket.id, { user, socketId: socket.id, deviceId, state: defaultState });
      socket.join(room);
      const presence = presenceOf(room);
      // "crowded": zoe joins right behind this join, her presence:join in the ack's long-polling
      // payload (the first emit takes the pending GET, so the next packets are sent together).
      if (room === "crowded") socket.emit("noop");
      ack({ ok: true, room, presence, counts: { users: presence.length, connections: members.get(room)!.size } });
      socket.to(room).emit("presence:join", { room, user, metas: metasOf(room, user.id) });
      if (room === "crowded") {
        const zoe = { memberId: "m-zoe", deviceId: "z1", joinedAt: 0, state: null };
        socket.emit("presence:join", { room, user: { id: "zoe", name: "zoe" }, metas: [zoe] });
        socket.emit("crowded:sent");
      }
    });
    socket.on("room:leave", (room: string, ack: (reply: unknown) => void) => {
      leave(socket, room);
      ack({ ok: true, room });
    });
    socket.on("presence:set", (body: { room?: string; state: unknown }, ack?: (reply: unknown) => void) => {
      if (!body.room) defaultState = body.state;
      for (const [room, bySocket] of members) {
        const entry = bySocket.get(socket.id);
        if (!entry || (body.room && body.room !== room)) continue;
        entry.state = body.state;
        io.to(room).emit("presence:update", { room, user, metas: metasOf(room, user.id) });
      }
      ack?.({ ok: true });
    });
    for (const event of ["message:new", "typing:start", "typing:stop"]) {
      socket.on(event, (payload: { room: string }) => socket.to(payload.room).emit(event, { ...payload, user }));
    }
    socket.on("disconnecting", () => {
      for (const room of members.keys()) leave(socket, room);
    });
  });
  return { joins };
}

let http: HttpServer;
let io: Server;
let url: string;
let server: ReturnType<typeof contractServer>;
const sockets: EdgeSocket[] = [];

beforeAll(async () => {
  http = createServer();
  io = new Server(http);
  server = contractServer(io);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect();
});
afterAll(async () => {
  io.close();
  await new Promise((resolve) => http.close(resolve));
});

function open(options: Parameters<typeof connect>[1] = {}): EdgeSocket {
  const socket = connect(url, { forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 100, ...options });
  sockets.push(socket);
  return socket;
}

function once<T>(subscribe: (resolve: (value: T) => void) => void, what: string, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    subscribe((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** Resolves when `check()` holds after one of `socket`'s room events (or right away). */
function until(check: () => boolean, subscribe: (wake: () => void) => () => void, what: string): Promise<void> {
  if (check()) return Promise.resolve();
  return once<void>((resolve) => {
    const off = subscribe(() => {
      if (check()) {
        off();
        resolve();
      }
    });
  }, what);
}

describe("client-shim: auth", () => {
  it("sends the token and device id, and refreshes the token after an unauthorized connect error", async () => {
    const reasons: string[] = [];
    const errors: Array<{ message: string; code?: string }> = [];
    const socket = open({
      deviceId: "device-1",
      getToken: (reason) => {
        reasons.push(reason);
        return reason === "initial" ? "expired" : "good:alice";
      },
    });
    socket.on("connect_error", (error: Error & { data?: { code?: string } }) =>
      errors.push({ message: error.message, code: error.data?.code }),
    );
    const hello = await once<{ deviceId: string; token: string }>((resolve) => socket.once("hello", resolve), "hello");
    expect(reasons).toEqual(["initial", "refresh"]);
    expect(errors).toEqual([{ message: "unauthorized", code: "token_expired" }]);
    expect(hello).toEqual({ deviceId: "device-1", token: "good:alice" });
    expect(socket.deviceId).toBe("device-1");
  });

  it("gives up after maxTokenRefreshes refreshes that still fail", async () => {
    const reasons: string[] = [];
    const socket = open({
      maxTokenRefreshes: 2,
      getToken: (reason) => {
        reasons.push(reason);
        return "bad";
      },
    });
    let failures = 0;
    await once<void>((resolve) => socket.on("connect_error", () => ++failures === 3 && resolve()), "three connect errors");
    expect(reasons).toEqual(["initial", "refresh", "refresh"]);
    expect(socket.connected).toBe(false);
    expect(socket.active).toBe(false);
  });

  it("connects as a guest without a token", async () => {
    const socket = open();
    const hello = await once<{ deviceId: string; token?: string }>((resolve) => socket.once("hello", resolve), "hello");
    expect(hello.token).toBeUndefined();
    expect(hello.deviceId).toBe(socket.deviceId);
  });
});

describe("client-shim: rooms and presence", () => {
  it("keeps a live presence list and delivers room events to the right room only", async () => {
    type ChatEvents = { "message:new": { text: string } };
    const alice = open({ token: "good:alice", deviceId: "a1" });
    const bob = open({ token: "good:bob", deviceId: "b1" });
    const aliceRoom = alice.room<ChatEvents>("lobby");
    expect(alice.room("lobby")).toBe(aliceRoom);

    const joined = await aliceRoom.join();
    expect(joined.ok && joined.presence.map((e) => e.user.id)).toEqual(["alice"]);
    const joins: string[] = [];
    aliceRoom.on("presence:join", (event) => joins.push(event.user.id));

    const bobRoom = bob.room<ChatEvents>("lobby");
    await bobRoom.join();
    await until(
      () => aliceRoom.presence.length === 2,
      (wake) => aliceRoom.on("presence", wake),
      "bob in alice's list",
    );
    expect(joins).toEqual(["bob"]);
    expect(aliceRoom.counts).toEqual({ users: 2, connections: 2 });
    expect(aliceRoom.presence.find((e) => e.user.id === "bob")!.metas[0].deviceId).toBe("b1");

    // Messages for another room the client has a helper for do not reach this room's listeners.
    const other = alice.room("other");
    const strays: unknown[] = [];
    other.on("message:new", (payload) => strays.push(payload));
    const received = once<{ text: string; room: string; user: { id: string } }>(
      (resolve) => aliceRoom.on("message:new", resolve),
      "message",
    );
    bobRoom.emit("message:new", { text: "hi alice" });
    expect(await received).toEqual({ text: "hi alice", room: "lobby", user: { id: "bob", name: "bob" } });
    expect(strays).toEqual([]);

    // Presence state set globally reaches every joined room as presence:update.
    await bob.setPresence({ status: "away" });
    await until(
      () => aliceRoom.presence.find((e) => e.user.id === "bob")?.metas[0].state !== null,
      (wake) => aliceRoom.on("presence:update", wake),
      "bob's state",
    );
    expect(aliceRoom.presence.find((e) => e.user.id === "bob")!.metas[0].state).toEqual({ status: "away" });

    expect(await bobRoom.leave()).toEqual({ ok: true, room: "lobby" });
    await until(
      () => aliceRoom.presence.length === 1,
      (wake) => aliceRoom.on("presence:leave", wake),
      "bob leaving",
    );
    expect(aliceRoom.presence.map((e) => e.user.id)).toEqual(["alice"]);
    expect(bobRoom.joined).toBe(false);
  });
});

describe("client-shim: presence across acks and reconnects", () => {
  it("applies a join ack before the presence events behind it in the same payload", async () => {
    const socket = open({ token: "good:alice", transports: ["polling"] });
    const room = socket.room("crowded");
    const sent = once<void>((resolve) => socket.once("crowded:sent", () => resolve()), "the server's last packet");
    await room.join();
    await sent;
    // Before the fix the ack's snapshot (alice only) overwrote zoe's later presence:join.
    expect(room.presence.map((e) => e.user.id)).toEqual(["alice", "zoe"]);
  });

  it("joins with ackTimeout set (socket.io-client then passes an error argument first)", async () => {
    const room = open({ token: "good:erin", ackTimeout: 2000 }).room("timed");
    expect(await room.join()).toMatchObject({ ok: true, room: "timed" });
    expect(room.presence.map((e) => e.user.id)).toEqual(["erin"]);
  });

  it("empties the presence list while disconnected and refills it from the re-join", async () => {
    const socket = open({ token: "good:dan" });
    const room = socket.room("offline-room");
    await room.join();
    expect(room.presence.map((e) => e.user.id)).toEqual(["dan"]);
    const lists: string[][] = [];
    room.on("presence", (presence) => lists.push(presence.map((e) => e.user.id)));
    const atDisconnect = once<string[]>(
      (resolve) => socket.once("disconnect", () => resolve(room.presence.map((e) => e.user.id))),
      "disconnect",
    );
    const firstId = socket.id;
    io.sockets.sockets.get(firstId!)!.conn.close(); // the transport drops
    // A stale list would let a caller take "dan is listed" for "dan is in the room again".
    expect(await atDisconnect).toEqual([]);
    await until(
      () => room.presence[0]?.metas[0]?.memberId === `m-${socket.id}`,
      (wake) => room.on("presence", wake),
      "re-joined",
    );
    expect(socket.id).not.toBe(firstId);
    expect(lists).toEqual([[], ["dan"]]);
  });
});

describe("client-shim: server:shutdown", () => {
  it("waits reconnect_delay_ms plus jitter, reconnects, re-joins rooms and restores presence state", async () => {
    const delays: number[] = [];
    const socket = open({ token: "good:carol", onServerShutdown: (ms) => delays.push(ms) });
    const room = socket.room("shutdown-room");
    await room.join();
    await socket.setPresence({ status: "here" });
    const firstId = socket.id;
    const joinsBefore = server.joins.filter((j) => j.room === "shutdown-room").length;

    const reconnected = once<void>((resolve) => socket.once("connect", () => resolve()), "reconnect");
    for (const s of await io.fetchSockets()) if (s.id === firstId) s.emit("server:shutdown", { reconnect_delay_ms: 150 });
    await reconnected;

    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(150);
    expect(delays[0]).toBeLessThanOrEqual(300);
    expect(socket.id).not.toBe(firstId);
    await until(
      () => room.presence[0]?.metas[0]?.memberId === `m-${socket.id}` && room.presence[0].metas[0].state !== null,
      (wake) => room.on("presence", wake),
      "re-joined with state",
    );
    expect(server.joins.filter((j) => j.room === "shutdown-room").length).toBe(joinsBefore + 1);
    expect(room.presence[0].metas[0].state).toEqual({ status: "here" });
  });
});

describe("client-shim: device id", () => {
  it("persists the device id in localStorage when there is one", () => {
    const store = new Map<string, string>();
    const g = globalThis as { localStorage?: unknown };
    const saved = g.localStorage;
    g.localStorage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    try {
      const id = persistentDeviceId();
      expect(id).toMatch(/.{16,}/);
      expect(store.get("edgeio:deviceId")).toBe(id);
      expect(persistentDeviceId()).toBe(id);
      store.set("edgeio:deviceId", "from-an-earlier-visit");
      expect(persistentDeviceId()).toBe("from-an-earlier-visit");
    } finally {
      g.localStorage = saved;
    }
  });

  it("falls back to one id per page when storage is unavailable", () => {
    const g = globalThis as { localStorage?: unknown };
    const saved = g.localStorage;
    g.localStorage = undefined;
    try {
      expect(persistentDeviceId()).toBe(persistentDeviceId());
    } finally {
      g.localStorage = saved;
    }
  });
});
