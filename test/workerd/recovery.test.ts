/**
 * Connection-state recovery inside workerd (docs/recovery.md): the state of a dropped socket
 * and the packets it missed survive `evictDurableObject` of its host, and the client may come
 * back through another host, which takes the socket over from its home; the home then
 * forwards what is sent to the socket's id. Recovery is switched on per host with the
 * ENVIRONMENT=test hook (`testRecovery`), so the other workerd tests keep it off.
 */
import { evictDurableObject, runInDurableObject, SELF } from "cloudflare:test";
import type { Socket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { connectNamespace, emitWithAck, hostOf, nextEvent, PollingSession, WebSocketSession } from "./engine-client";
import { connectInWorker } from "./in-worker-client";
import { HOSTS, loggedOn, stubOf, until } from "./recovery-helpers";

const ACK_MS = 8000;

async function setRecovery(on: boolean, bounds: { maxPackets?: number } = {}): Promise<void> {
  await Promise.all(HOSTS.map((host) => stubOf(host).testRecovery(on ? { maxDisconnectionDuration: 30_000, ...bounds } : null)));
}

afterEach(() => setRecovery(false));

async function drop(client: Socket): Promise<void> {
  const gone = new Promise((resolve) => client.once("disconnect", resolve));
  const response = await SELF.fetch(`http://edgeio.test/_edgeio/test/drop?sid=${encodeURIComponent(client.io.engine.id)}`, {
    method: "POST",
  });
  expect(response.status).toBe(200);
  await gone;
}

/** A client in `room` with socket.data.color set, which has seen one broadcast (so it has an offset). */
async function preparedClient(room: string, sender: Socket): Promise<{ client: Socket; ticks: unknown[][] }> {
  const client = await connectInWorker("/", { mode: "websocket" });
  const ticks: unknown[][] = [];
  client.on("tick", (...args: unknown[]) => ticks.push(args));
  await client.timeout(ACK_MS).emitWithAck("join", room);
  await client.timeout(ACK_MS).emitWithAck("set-data", "color", "blue");
  sender.emit("to-room", room, "tick", 0);
  await until(() => ticks.length === 1, "the first tick");
  return { client, ticks };
}

describe("connection-state recovery in workerd", () => {
  it("recovers after the host was evicted while the client was away", async () => {
    await setRecovery(true);
    const room = `evicted-${crypto.randomUUID()}`;
    const sender = await connectInWorker("/", { mode: "websocket" });
    const { client, ticks } = await preparedClient(room, sender);
    const id = client.id!;
    const home = hostOf(id);
    await drop(client);

    sender.emit("to-room", room, "tick", 1);
    await until(async () => (await loggedOn(home, id)) === 1, "tick 1 in the log");
    await evictDurableObject(stubOf(home));
    sender.emit("to-room", room, "tick", 2); // reaches a new instance, which finds the suspended socket in SQLite
    await until(async () => (await loggedOn(home, id)) === 2, "tick 2 in the log");

    client.connect(); // the same client object: CONNECT carries its pid and last offset
    await new Promise<void>((resolve) => client.once("connect", () => resolve()));
    expect(client.id).toBe(id);
    expect(client.recovered).toBe(true);
    const state = (await client.timeout(ACK_MS).emitWithAck("whoami-recovery")) as { rooms: string[]; data: unknown; recovered: boolean };
    expect(state).toMatchObject({ recovered: true, data: { color: "blue" } });
    expect(state.rooms).toEqual(expect.arrayContaining([id, room]));
    expect(ticks.map((args) => args[0])).toEqual([0, 1, 2]);
    expect(await loggedOn(home, id)).toBe(0);
    client.close();
    sender.close();
  }, 60_000);

  it("recovers through a different host, which then receives the socket's room and id traffic", async () => {
    await setRecovery(true);
    const room = `moved-${crypto.randomUUID()}`;
    const sender = await connectInWorker("/", { mode: "websocket" });
    const { client } = await preparedClient(room, sender);
    const id = client.id!;
    const home = hostOf(id);
    const { _pid: pid, _lastOffset: offset } = client as unknown as { _pid: string; _lastOffset: string };
    expect(typeof pid).toBe("string");
    await drop(client);
    sender.emit("to-room", room, "tick", 1);
    await until(async () => (await loggedOn(home, id)) === 1, "tick 1 in the log");

    // A raw session on another host sends what socket.io-client sends on reconnect: {pid, offset}.
    let conn = await WebSocketSession.handshake();
    for (let i = 0; hostOf(conn.sid) === home; i++) {
      if (i > 40) throw new Error("no session on another host");
      conn.close();
      conn = await WebSocketSession.handshake();
    }
    const reply = await connectNamespace(conn, "/", { pid, offset });
    expect(JSON.parse(reply.slice(2))).toEqual({ sid: id, pid });
    expect((await nextEvent(conn, "tick")).slice(0, 1)).toEqual([1]);
    const [state] = (await emitWithAck(conn, ["whoami-recovery"])) as [{ id: string; recovered: boolean; rooms: string[]; data: unknown }];
    expect(state).toMatchObject({ id, recovered: true, data: { color: "blue" } });
    expect(state.rooms).toEqual(expect.arrayContaining([id, room]));
    // The home handed it over: nothing of it is left there but a forward.
    expect(await loggedOn(home, id)).toBe(0);
    const leftAtHome = await runInDurableObject(
      stubOf(home),
      (_instance, s) => s.storage.sql.exec("SELECT COUNT(*) AS n FROM sockets WHERE id = ?", id).one().n,
    );
    expect(leftAtHome).toBe(0);

    sender.emit("to-room", room, "tick", 2); // the room now lists the new host
    expect((await nextEvent(conn, "tick")).slice(0, 1)).toEqual([2]);
    sender.emit("to-room", id, "tick", 3); // a socket id names its home, which forwards
    expect((await nextEvent(conn, "tick")).slice(0, 1)).toEqual([3]);
    conn.close();
    sender.close();
  }, 60_000);

  it("keeps what was queued for a long-poll when it dropped, after the client's last offset", async () => {
    await setRecovery(true);
    const room = `queued-${crypto.randomUUID()}`;
    const sender = await connectInWorker("/", { mode: "websocket" });
    const polling = (await PollingSession.handshake()).start();
    const { sid: id, pid } = JSON.parse((await connectNamespace(polling, "/")).slice(2)) as { sid: string; pid: string };
    await emitWithAck(polling, ["join", room]);
    await polling.stop(); // no GET held from now on: what is sent waits in the session's queue
    const home = hostOf(id);
    const queued = () =>
      runInDurableObject(stubOf(home), (_instance, state) =>
        state.storage.sql.exec("SELECT frame FROM outbox WHERE sid = ? AND frame LIKE '42%' ORDER BY seq", polling.sid).toArray(),
      );
    for (const n of [1, 2, 3]) sender.emit("to-room", room, "tick", n);
    await until(async () => (await queued()).length === 3, "three queued ticks");
    // Say the client had received tick 1 (its offset is the last argument) before the drop.
    const [first] = (await queued()) as Array<{ frame: string }>;
    const offset = (JSON.parse(first.frame.slice(2)) as unknown[]).at(-1);
    const response = await SELF.fetch(`http://edgeio.test/_edgeio/test/drop?sid=${encodeURIComponent(polling.sid)}`, { method: "POST" });
    expect(response.status).toBe(200);
    expect(await loggedOn(home, id)).toBe(3);

    const conn = await WebSocketSession.handshake();
    expect(JSON.parse((await connectNamespace(conn, "/", { pid, offset })).slice(2))).toEqual({ sid: id, pid });
    expect((await nextEvent(conn, "tick")).slice(0, 1)).toEqual([2]);
    expect((await nextEvent(conn, "tick")).slice(0, 1)).toEqual([3]);
    await emitWithAck(conn, ["echo", "after"]);
    expect(conn.inbox.log.filter((frame) => typeof frame === "string" && frame.startsWith('42["tick"'))).toHaveLength(2);
    conn.close();
    sender.close();
  }, 60_000);

  it("ends recovery when the log would pass its bound: recovery:expired with reason overflow, then a fresh socket", async () => {
    await setRecovery(true, { maxPackets: 2 });
    const room = `overflow-${crypto.randomUUID()}`;
    const watcher = await connectInWorker("/", { mode: "websocket" });
    await watcher.timeout(ACK_MS).emitWithAck("join", "recovery-watch");
    const expired: Array<{ id: string; reason: string }> = [];
    watcher.on("recovery:expired", (event: { id: string; reason: string }) => expired.push(event));
    const sender = await connectInWorker("/", { mode: "websocket" });
    const { client } = await preparedClient(room, sender);
    const id = client.id!;
    await drop(client);
    for (const n of [1, 2, 3]) sender.emit("to-room", room, "tick", n);
    await until(() => expired.some((event) => event.id === id), "recovery:expired");
    expect(expired.filter((event) => event.id === id)).toEqual([{ id, reason: "overflow", rooms: [room] }]);
    expect(await loggedOn(hostOf(id), id)).toBe(0);

    client.connect();
    await new Promise<void>((resolve) => client.once("connect", () => resolve()));
    expect(client.id).not.toBe(id);
    expect(client.recovered).toBe(false);
    for (const socket of [client, sender, watcher]) socket.close();
  }, 60_000);
});
