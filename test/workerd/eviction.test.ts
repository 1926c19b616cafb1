/**
 * evictDurableObject in the middle of a session (polling and WebSocket): the same session
 * carries on with its namespaces, rooms and socket.data, and the "connection" handler is
 * replayed silently (no second "welcome").
 */
import { evictDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import {
  connectOk,
  echoRoundTrip,
  emitWithAck,
  hostOf,
  hostStubFor,
  nextEvent,
  PollingSession,
  startsWith,
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

const welcomes = (conn: Conn) => conn.inbox.log.filter((f) => typeof f === "string" && f.startsWith('42["welcome"')).length;

for (const kind of ["polling", "websocket"] as const) {
  describe(`eviction mid ${kind} session`, () => {
    it("namespaces, rooms and socket.data survive; no welcome is re-emitted", async () => {
      const conn = await open(kind);
      console.log("STEP 42", kind, Date.now() % 100000);
      const socketId = await connectOk(conn, "/");
      console.log("STEP 43", kind, Date.now() % 100000);
      const adminId = await connectOk(conn, "/admin", { token: "let-me-in" });
      console.log("STEP 44", kind, Date.now() % 100000);
      await nextEvent(conn, "welcome");
      console.log("STEP 45", kind, Date.now() % 100000);
      expect(await emitWithAck(conn, ["join", `room-${kind}`])).toEqual([]);
      console.log("STEP 46", kind, Date.now() % 100000);
      expect(await emitWithAck(conn, ["set-data", "color", "blue"])).toEqual([]);
      console.log("STEP 47", kind, Date.now() % 100000);
      await echoRoundTrip(conn);
      console.log("STEP 48", kind, Date.now() % 100000);
      expect(await emitWithAck(conn, ["count"])).toEqual([1]);
      console.log("STEP 49", kind, Date.now() % 100000);

      // Another session (any host) that will broadcast into the room afterwards.
      const other = await open("websocket");
      console.log("STEP 52", kind, Date.now() % 100000);
      await connectOk(other, "/");
      console.log("STEP 53", kind, Date.now() % 100000);

      const stub = hostStubFor(conn.sid);
      console.log("STEP 55", kind, Date.now() % 100000);
      const before = await stub.stats();
      console.log("STEP 56", kind, Date.now() % 100000);
      await evictDurableObject(stub);
      console.log("STEP 57", kind, Date.now() % 100000);

      // The same sid, socket ids and state, served by a new instance.
      expect(await emitWithAck(conn, ["get-data"])).toEqual([{ events: 1, color: "blue" }]);
      console.log("STEP 60", kind, Date.now() % 100000);
      const after = await stub.stats();
      console.log("STEP 61", kind, Date.now() % 100000);
      expect(after.instanceId).not.toBe(before.instanceId);
      console.log("STEP 62", kind, Date.now() % 100000);
      expect(after.constructions).toBeGreaterThan(before.constructions);
      console.log("STEP 63", kind, Date.now() % 100000);
      expect(after.host).toBe(hostOf(conn.sid));
      console.log("STEP 64", kind, Date.now() % 100000);

      await echoRoundTrip(conn);
      console.log("STEP 66", kind, Date.now() % 100000);
      expect(await emitWithAck(conn, ["count"])).toEqual([2]);
      console.log("STEP 67", kind, Date.now() % 100000);
      expect(((await emitWithAck(conn, ["rooms"]))[0] as string[]).sort()).toEqual([socketId, `room-${kind}`].sort());
      console.log("STEP 68", kind, Date.now() % 100000);
      expect(await emitWithAck(conn, ["transport"])).toEqual([kind]);
      console.log("STEP 69", kind, Date.now() % 100000);
      expect(await emitWithAck(conn, ["whoami"], "/admin")).toEqual([{ id: adminId, role: "admin", auth: { token: "let-me-in" } }]);
      console.log("STEP 70", kind, Date.now() % 100000);

      // The room still reaches the socket, from another session.
      await other.send(`42["to-room","room-${kind}","news",{"n":1}]`);
      console.log("STEP 73", kind, Date.now() % 100000);
      expect(await nextEvent(conn, "news")).toEqual([{ n: 1 }]);
      console.log("STEP 74", kind, Date.now() % 100000);
      // ...and the namespace-wide room too.
      await other.send('42["broadcast","everyone",2]');
      console.log("STEP 76", kind, Date.now() % 100000);
      expect(await nextEvent(conn, "everyone")).toEqual([2]);
      console.log("STEP 77", kind, Date.now() % 100000);

      // The connection handler ran again silently: still exactly one welcome.
      expect(welcomes(conn)).toBe(1);
      console.log("STEP 80", kind, Date.now() % 100000);
      // New sockets after the eviction do get their welcome.
      const late = await open(kind);
      console.log("STEP 82", kind, Date.now() % 100000);
      await connectOk(late);
      console.log("STEP 83", kind, Date.now() % 100000);
      expect((await nextEvent(late, "welcome"))[0]).toMatchObject({ restored: false });
      console.log("STEP 84", kind, Date.now() % 100000);
    });

    it("evicted twice in a row, with data written in between", async () => {
      const conn = await open(kind);
      await connectOk(conn);
      const stub = hostStubFor(conn.sid);
      await emitWithAck(conn, ["set-data", "step", 1]);
      await evictDurableObject(stub);
      await emitWithAck(conn, ["set-data", "step", 2]);
      await evictDurableObject(stub);
      expect(await emitWithAck(conn, ["get-data"])).toEqual([{ events: 0, step: 2 }]);
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
