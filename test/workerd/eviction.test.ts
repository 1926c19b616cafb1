/**
 * evictDurableObject in the middle of a session (polling and WebSocket): the same session
 * carries on with its namespaces, rooms and socket.data, and the "connection" handler is
 * replayed silently (no second "welcome").
 */
import { evictDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { DEV_SID_SECRET } from "../../durable-objects/config";
import { verifySocketId } from "../../protocol/ids";
import {
  connectOk,
  echoRoundTrip,
  emitWithAck,
  hostOf,
  hostStubFor,
  nextEvent,
  PollingSession,
  startsWith,
  twoOnSameHost,
  WebSocketSession,
  type Conn,
} from "./engine-client";

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const dispose of cleanup.splice(0)) await dispose();
});

async function open(kind: "polling" | "websocket"): Promise<Conn> {
  if (kind === "websocket") {
    const session = await WebSocketSession.handshake();
    cleanup.push(() => session.close());
    return session;
  }
  const session = await PollingSession.handshake();
  session.start();
  cleanup.push(() => session.stop());
  return session;
}

/**
 * Evicts the host that owns `conn` in the middle of the session: for polling, while the
 * client's GET is held, exactly as a real client would be doing.
 */
async function evict(conn: Conn): Promise<void> {
  await evictDurableObject(hostStubFor(conn.sid));
}

const welcomes = (conn: Conn) => conn.inbox.log.filter((f) => typeof f === "string" && f.startsWith('42["welcome"')).length;

for (const kind of ["polling", "websocket"] as const) {
  describe(`eviction mid ${kind} session`, () => {
    it("namespaces, rooms and socket.data survive; no welcome is re-emitted", async () => {
      const conn = await open(kind);
      const socketId = await connectOk(conn, "/");
      const adminId = await connectOk(conn, "/admin", { token: "let-me-in" });
      await nextEvent(conn, "welcome");
      expect(await emitWithAck(conn, ["join", `room-${kind}`])).toEqual([]);
      expect(await emitWithAck(conn, ["set-data", "color", "blue"])).toEqual([]);
      await echoRoundTrip(conn);
      expect(await emitWithAck(conn, ["count"])).toEqual([1]);

      // Another session (any host) that will broadcast into the room afterwards.
      const other = await open("websocket");
      await connectOk(other, "/");

      const stub = hostStubFor(conn.sid);
      const before = await stub.stats();
      await evict(conn);

      // The same sid, socket ids and state, served by a new instance.
      expect(await emitWithAck(conn, ["get-data"])).toEqual([{ events: 1, color: "blue" }]);
      const after = await stub.stats();
      expect(after.instanceId).not.toBe(before.instanceId);
      expect(after.constructions).toBeGreaterThan(before.constructions);
      expect(after.host).toBe(hostOf(conn.sid));

      await echoRoundTrip(conn);
      expect(await emitWithAck(conn, ["count"])).toEqual([2]);
      expect(((await emitWithAck(conn, ["rooms"]))[0] as string[]).sort()).toEqual([socketId, `room-${kind}`].sort());
      expect(await emitWithAck(conn, ["transport"])).toEqual([kind]);
      expect(await emitWithAck(conn, ["whoami"], "/admin")).toEqual([{ id: adminId, role: "admin", auth: { token: "let-me-in" } }]);

      // The room still reaches the socket, from another session.
      await other.send(`42["to-room","room-${kind}","news",{"n":1}]`);
      expect(await nextEvent(conn, "news")).toEqual([{ n: 1 }]);
      // ...and the namespace-wide room too.
      await other.send('42["broadcast","everyone",2]');
      expect(await nextEvent(conn, "everyone")).toEqual([2]);

      // The connection handler ran again silently: still exactly one welcome.
      expect(welcomes(conn)).toBe(1);
      // New sockets after the eviction do get their welcome.
      const late = await open(kind);
      await connectOk(late);
      expect((await nextEvent(late, "welcome"))[0]).toMatchObject({ restored: false });
    });

    it("evicted three times, the first packet after each eviction changes data or emits", async () => {
      const conn = await open(kind);
      await connectOk(conn);
      await emitWithAck(conn, ["set-data", "step", 1]);
      await evict(conn);
      // First packet after an eviction: what its handler emits must not be lost to the replay.
      await conn.send('42["echo","right after"]');
      expect(await nextEvent(conn, "echo")).toEqual(["right after"]);
      await evict(conn);
      // First packet after an eviction changes socket.data: the replay must not undo it.
      await emitWithAck(conn, ["set-data", "step", 2]);
      await evict(conn);
      expect(await emitWithAck(conn, ["get-data"])).toEqual([{ events: 1, step: 2 }]);
      await echoRoundTrip(conn);
      expect(welcomes(conn)).toBe(1);
    });
  });
}

describe("eviction with frames queued for a polling session", () => {
  it("a message queued while no GET is held is delivered by the next instance", async () => {
    const polling = (await open("polling")) as PollingSession;
    await connectOk(polling);
    await emitWithAck(polling, ["join", "queued-room"]);
    const other = await open("websocket");
    await connectOk(other);
    await polling.stop();
    // Queued in the host's SQLite outbox, since nobody is polling.
    await other.send('42["to-room","queued-room","queued",1]');
    await echoRoundTrip(other);
    await evictDurableObject(hostStubFor(polling.sid));
    polling.start();
    expect(await nextEvent(polling, "queued")).toEqual([1]);
    await echoRoundTrip(polling);
  });
});

describe("eviction during a WebSocket upgrade", () => {
  it("2probe before, 5 after the eviction: the upgrade completes", async () => {
    const polling = await PollingSession.handshake();
    polling.pauseOnNoop = true;
    polling.start();
    cleanup.push(() => polling.stop());
    await connectOk(polling);
    const ws = await WebSocketSession.forUpgrade(polling.sid);
    cleanup.push(() => ws.close());
    await ws.send("2probe");
    expect(await ws.inbox.take(() => true)).toBe("3probe");
    await polling.ended();
    await evictDurableObject(hostStubFor(polling.sid));
    await ws.send("5");
    await echoRoundTrip(ws);
    expect(await emitWithAck(ws, ["transport"])).toEqual(["websocket"]);
    expect(ws.inbox.log.some(startsWith('42["welcome"'))).toBe(false);
  });
});

describe("eviction of a WebSocket session before its CONNECT", () => {
  it("the pending session comes back from its WebSocket's attachment: its 40 connects as usual, other sessions carry on", async () => {
    const [connected, pending] = await twoOnSameHost(
      () => WebSocketSession.handshake(),
      (s) => s.close(),
    );
    cleanup.push(
      () => connected.close(),
      () => pending.close(),
    );
    await connectOk(connected, "/");
    await nextEvent(connected, "welcome");
    await evictDurableObject(hostStubFor(pending.sid));
    // The socket id minted with the sid was in memory only: the new instance mints one.
    const socketId = await connectOk(pending, "/");
    expect(await verifySocketId(DEV_SID_SECRET, socketId)).toBe(hostOf(pending.sid));
    await nextEvent(pending, "welcome");
    await echoRoundTrip(pending);
    // The session connected before the eviction, on the same host, carries on.
    await echoRoundTrip(connected);
  });

  it("a handshake too big for an attachment is written at once: it survives the eviction too", async () => {
    const session = await WebSocketSession.handshake({ big: "x".repeat(2000) });
    cleanup.push(() => session.close());
    await evictDurableObject(hostStubFor(session.sid));
    await connectOk(session, "/");
    await nextEvent(session, "welcome");
  });

  it("one that sends nothing after the eviction is closed at its connect deadline, as without one", async () => {
    const silent = (await open("websocket")) as WebSocketSession;
    await evictDurableObject(hostStubFor(silent.sid));
    const control = (await open("websocket")) as WebSocketSession; // never evicted
    await silent.inbox.whenEnded(3000);
    await control.inbox.whenEnded(3000);
    expect(silent.closeReason).toBe("transport close"); // the connect timeout's close (sessions.ts)
    expect(silent.closeReason).toBe(control.closeReason);
    // The client reconnects: a new session connects as usual.
    const retry = await open("websocket");
    await connectOk(retry, "/");
    await nextEvent(retry, "welcome");
  });
});
