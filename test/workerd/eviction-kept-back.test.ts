/**
 * A socket connected over WebSocket writes no row at its CONNECT: it is kept back in memory and
 * in its WebSocket's attachment (host-store.ts). evictDurableObject right after the CONNECT, before
 * anything wrote it, must change nothing: every path that looks for the socket after the eviction
 * (its own packets, namespace-wide broadcasts, io.to(its id), fetchSockets and remote joins from
 * another host) finds it, with its socket.data; a socket that left its namespace stays gone.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { connectOk, echoRoundTrip, emitWithAck, hostStubFor, nextEvent, onHost, twoOnSameHost, WebSocketSession } from "./engine-client";

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const dispose of cleanup.splice(0)) await dispose();
});

async function open(host?: string): Promise<WebSocketSession> {
  const session = host
    ? await onHost(
        host,
        () => WebSocketSession.handshake(),
        (s) => s.close(),
      )
    : await WebSocketSession.handshake();
  cleanup.push(() => session.close());
  return session;
}

/** Two sessions on the same host, closed after the test. */
async function twoOnOneHost(): Promise<[WebSocketSession, WebSocketSession]> {
  const pair = await twoOnSameHost(
    () => WebSocketSession.handshake(),
    (s) => s.close(),
  );
  cleanup.push(...pair.map((session) => () => session.close()));
  return pair;
}

const welcomes = (conn: WebSocketSession) => conn.inbox.log.filter((f) => typeof f === "string" && f.startsWith('42["welcome"')).length;
type Listed = { sockets: Array<{ id: string; data: unknown }> };

describe("eviction right after a WebSocket CONNECT (the socket's row not written yet)", () => {
  it("every lookup after the eviction finds the socket, with its data; its client notices nothing", async () => {
    const target = await open();
    const id = await connectOk(target, "/");
    await nextEvent(target, "welcome");
    const stub = hostStubFor(target.sid);
    // Nothing of this connect is in SQLite yet (host-work.test.ts counts it).
    const other = await open();
    await connectOk(other, "/");

    await evictDurableObject(stub);
    const listed = (await emitWithAck(other, ["fetch-sockets", {}]))[0] as Listed;
    expect(listed.sockets.find((s) => s.id === id)?.data).toEqual({ events: 0 });

    await evictDurableObject(stub);
    expect(await emitWithAck(other, ["remote", { id, action: "emit", arg: "hi" }])).toEqual([{ ok: true }]);
    expect(await nextEvent(target, "from-remote")).toEqual(["hi"]);

    await evictDurableObject(stub);
    await other.send('42["broadcast","everyone",1]');
    expect(await nextEvent(target, "everyone")).toEqual([1]);

    await evictDurableObject(stub);
    await other.send(`42["io-to-room","${id}","direct",2]`);
    expect(await nextEvent(target, "direct")).toEqual([2]);

    await evictDurableObject(stub);
    expect(await emitWithAck(other, ["remote", { id, action: "join", arg: "kept" }])).toEqual([{ ok: true }]);
    await evictDurableObject(stub);
    await other.send('42["to-room","kept","news",3]');
    expect(await nextEvent(target, "news")).toEqual([3]);

    expect(((await emitWithAck(target, ["rooms"]))[0] as string[]).sort()).toEqual([id, "kept"].sort());
    expect(await emitWithAck(target, ["get-data"])).toEqual([{ events: 0 }]);
    await echoRoundTrip(target);
    expect(await emitWithAck(target, ["count"])).toEqual([1]);
    expect(welcomes(target)).toBe(1);
  });

  it("its own first packet after the eviction finds it, and a change of socket.data then survives the next eviction", async () => {
    const target = await open();
    await connectOk(target, "/");
    await nextEvent(target, "welcome");
    const stub = hostStubFor(target.sid);
    await evictDurableObject(stub);
    await target.send('42["echo","right after"]');
    expect(await nextEvent(target, "echo")).toEqual(["right after"]);
    await evictDurableObject(stub);
    expect(await emitWithAck(target, ["set-data", "step", 1])).toEqual([]);
    await evictDurableObject(stub);
    expect(await emitWithAck(target, ["get-data"])).toEqual([{ events: 1, step: 1 }]);
    expect(welcomes(target)).toBe(1);
  });

  it("a socket that left its namespace before the eviction is not brought back by its attachment", async () => {
    // On one host, so that the host keeps a socket in "/" and its leaving writes nothing.
    const [other, target] = await twoOnOneHost();
    const otherId = await connectOk(other, "/");
    const id = await connectOk(target, "/");
    await nextEvent(target, "welcome");
    await target.send("41"); // the client leaves "/"; its session stays open
    const stub = hostStubFor(target.sid);
    // Wait until the host has removed it (the DISCONNECT is handled asynchronously).
    for (let i = 0; i < 50; i++) {
      const listed = (await emitWithAck(other, ["fetch-sockets", {}]))[0] as Listed;
      if (!listed.sockets.some((s) => s.id === id)) break;
    }
    await evictDurableObject(stub);
    const listed = (await emitWithAck(other, ["fetch-sockets", {}]))[0] as Listed;
    expect(listed.sockets.map((s) => s.id)).not.toContain(id);
    expect(listed.sockets.map((s) => s.id)).toContain(otherId);
  });
});

/** How many rows of a session, and of its sockets, the host's SQLite holds. */
async function storedRows(sid: string): Promise<{ sessions: number; sockets: number }> {
  return runInDurableObject(hostStubFor(sid), (_instance, state) => ({
    sessions: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sessions WHERE sid = ?", sid).one().n,
    sockets: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sockets WHERE sid = ?", sid).one().n,
  }));
}

describe("a kept-back session while other sessions on its host write", () => {
  it("another socket's join, leave and socket.data write none of its rows; it survives an eviction after them", async () => {
    const [other, target] = await twoOnOneHost();
    const id = await connectOk(target, "/");
    await nextEvent(target, "welcome");
    await connectOk(other, "/");
    // Writes of the other session: a membership (INSERT), its removal (DELETE), socket.data (UPDATE).
    expect(await emitWithAck(other, ["join", "others-room"])).toEqual([]);
    expect(await emitWithAck(other, ["leave", "others-room"])).toEqual([]);
    expect(await emitWithAck(other, ["set-data", "step", 1])).toEqual([]);
    expect(await storedRows(other.sid)).toEqual({ sessions: 1, sockets: 1 });
    // The kept-back session is still only in memory and in its attachment (the join above used to write it).
    expect(await storedRows(target.sid)).toEqual({ sessions: 0, sockets: 0 });

    await evictDurableObject(hostStubFor(target.sid));
    const listed = (await emitWithAck(other, ["fetch-sockets", {}]))[0] as Listed;
    expect(listed.sockets.find((s) => s.id === id)?.data).toEqual({ events: 0 });
    await echoRoundTrip(target);
    // Its own join writes it, with its socket, before the membership that names the socket.
    expect(await emitWithAck(target, ["join", "own-room"])).toEqual([]);
    expect(await storedRows(target.sid)).toEqual({ sessions: 1, sockets: 1 });
    await evictDurableObject(hostStubFor(target.sid));
    await other.send('42["to-room","own-room","news",4]');
    expect(await nextEvent(target, "news")).toEqual([4]);
    expect(welcomes(target)).toBe(1);
  });
});

describe("a written session whose last socket left (back in its attachment until the close)", () => {
  it("its session survives an eviction: the client connects a namespace again on the same connection, and the socket that left stays gone", async () => {
    const [other, target] = await twoOnOneHost();
    await connectOk(other, "/");
    const id = await connectOk(target, "/");
    await nextEvent(target, "welcome");
    // A join writes the session's and the socket's rows.
    expect(await emitWithAck(target, ["join", "written-room"])).toEqual([]);
    await target.send("41"); // the client leaves "/"; its connection stays open
    for (let i = 0; i < 50; i++) {
      const listed = (await emitWithAck(other, ["fetch-sockets", {}]))[0] as Listed;
      if (!listed.sockets.some((s) => s.id === id)) break;
    }
    await evictDurableObject(hostStubFor(target.sid));
    // The session is rebuilt from its attachment: a CONNECT on the same connection is answered.
    const again = await connectOk(target, "/");
    expect(again).not.toBe(id);
    await echoRoundTrip(target);
    const listed = (await emitWithAck(other, ["fetch-sockets", {}]))[0] as Listed;
    expect(listed.sockets.map((s) => s.id)).toContain(again);
    expect(listed.sockets.map((s) => s.id)).not.toContain(id);
  });
});

describe("a host's counts after an eviction that took its kept-back sockets out of memory", () => {
  it("stats() counts the sessions and sockets that live only in attachments", async () => {
    const [first, second] = await twoOnOneHost();
    await connectOk(first, "/");
    await connectOk(second, "/");
    await nextEvent(second, "welcome");
    const stub = hostStubFor(second.sid);
    const before = await stub.stats();
    expect([before.sessions, before.sockets, before.webSockets]).toEqual([2, 2, 2]);

    await evictDurableObject(stub);
    // The first call after the eviction: nothing else has brought the sessions back into memory.
    const after = await stub.stats();
    expect([after.sessions, after.sockets, after.webSockets]).toEqual([2, 2, 2]);
  });
});
