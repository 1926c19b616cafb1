/**
 * Recovery through another host is lossless (docs/recovery.md, "Resuming"): a socket's rooms
 * receive broadcasts while the host the client came back through takes the socket over from
 * its home. The ENVIRONMENT=test hold stops hand-overs to that host between their phases, so
 * the test emits exactly then; every packet must arrive once, in order, after the CONNECT reply.
 */
import { evictDurableObject, runInDurableObject, SELF } from "cloudflare:test";
import type { Socket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { connectNamespace, emitWithAck, type Frame, hostOf, nextEvent, onHost, WebSocketSession } from "./engine-client";
import { connectInWorker } from "./in-worker-client";
import { HOSTS, loggedOn, stubOf, suspendedOn, until } from "./recovery-helpers";

const WINDOW = { maxDisconnectionDuration: 30_000 };

/** Recovery on (or off) on every host; `holdOn`: hand-overs to that host wait between their phases. */
async function setRecovery(on: boolean, holdOn?: string): Promise<void> {
  await Promise.all(HOSTS.map((host) => stubOf(host).testRecovery(on ? WINDOW : null, host === holdOn)));
}

afterEach(() => setRecovery(false));

/** The values of the "tick" events a connection received, in order. */
function ticksOf(log: Frame[]): unknown[] {
  return log.flatMap((frame) => (typeof frame === "string" && frame.startsWith('42["tick"') ? [JSON.parse(frame.slice(2))[1]] : []));
}

async function dropSession(sid: string): Promise<void> {
  const response = await SELF.fetch(`http://edgeio.test/_edgeio/test/drop?sid=${encodeURIComponent(sid)}`, { method: "POST" });
  expect(response.status).toBe(200);
}

/** A socket on its home host, in `room`, that saw tick 0 (so it has an offset), dropped; tick 1 is in its home's log. */
async function suspendedInRoom(room: string, sender: Socket) {
  const first = await WebSocketSession.handshake();
  const { sid: id, pid } = JSON.parse((await connectNamespace(first, "/")).slice(2)) as { sid: string; pid: string };
  const home = hostOf(id);
  await emitWithAck(first, ["join", room]);
  sender.emit("to-room", room, "tick", 0);
  const offset = (await nextEvent(first, "tick")).at(-1);
  await dropSession(first.sid);
  sender.emit("to-room", room, "tick", 1);
  await until(async () => (await loggedOn(home)) === 1, "tick 1 in the home's log");
  return { id, pid, offset, home };
}

const openOn = (host: string) =>
  onHost(
    host,
    () => WebSocketSession.handshake(),
    (c) => c.close(),
  );

/**
 * A socket suspended on its home whose client came back through another host (the taker),
 * the hand-over held between its phases; tick 2 is then sent: in the home's log, held on the taker.
 */
async function heldHandOver(name: string) {
  await setRecovery(true);
  const room = `${name}-${crypto.randomUUID()}`;
  const sender = await connectInWorker("/", { mode: "websocket" });
  const { id, pid, offset, home } = await suspendedInRoom(room, sender);
  const taker = HOSTS.find((host) => host !== home)!;
  const conn = await openOn(taker);
  await setRecovery(true, taker);
  void connectNamespace(conn, "/", { pid, offset }).catch(() => undefined);
  await until(async () => (await stubOf(taker).testRecovery(WINDOW, true)) === 1, "the hand-over held between its phases");
  sender.emit("to-room", room, "tick", 2);
  await until(async () => (await loggedOn(home)) === 2, "tick 2 in the home's log");
  return { room, sender, id, pid, offset, home, taker, conn };
}

describe("recovery hand-over between hosts", () => {
  it("delivers what the socket's room is sent during the hand-over once, in order", async () => {
    await setRecovery(true);
    const room = `handover-${crypto.randomUUID()}`;
    const sender = await connectInWorker("/", { mode: "websocket" });
    const { id, pid, offset, home } = await suspendedInRoom(room, sender);

    // The client comes back through another host, which also has a witness socket in the room:
    // the witness shows when that host has applied a broadcast.
    const taker = HOSTS.find((host) => host !== home)!;
    const conn = await openOn(taker);
    const witness = await openOn(taker);
    await connectNamespace(witness, "/");
    await emitWithAck(witness, ["join", room]);
    await setRecovery(true, taker);
    const connected = connectNamespace(conn, "/", { pid, offset });
    await until(async () => (await stubOf(taker).testRecovery(WINDOW, true)) === 1, "the hand-over held between its phases");

    // Sent while both hosts may have the socket: the home logging it, the taker in its rooms.
    for (const n of [2, 3, 4]) sender.emit("to-room", room, "tick", n);
    await until(() => ticksOf(witness.inbox.log).includes(4), "the taker applied tick 4");
    // Tick 4 started only once ticks 2 and 3 had settled on every host (one sender's order).
    await setRecovery(true); // releases the hand-over

    expect(JSON.parse((await connected).slice(2))).toEqual({ sid: id, pid });
    sender.emit("to-room", room, "tick", 5); // live, after the hand-over
    await until(() => ticksOf(conn.inbox.log).includes(5), "tick 5");
    await emitWithAck(conn, ["echo", "settled"]); // anything late would have come by now
    expect(ticksOf(conn.inbox.log)).toEqual([1, 2, 3, 4, 5]);
    // The home handed everything over.
    expect(await loggedOn(home)).toBe(0);
    const rowsAtHome = await runInDurableObject(
      stubOf(home),
      (_instance, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM sockets WHERE id = ?", id).one().n,
    );
    expect(rowsAtHome).toBe(0);
    for (const c of [conn, witness]) c.close();
    sender.close();
  }, 60_000);

  it("keeps the socket on its home when the taker fails between the phases: a later reconnect recovers it", async () => {
    const { room, sender, id, pid, offset, home, taker, conn } = await heldHandOver("handover-failed");
    // The taker's instance goes away mid-hand-over: the second phase never reaches the home.
    await evictDurableObject(stubOf(taker));
    sender.emit("to-room", room, "tick", 3);
    await until(async () => (await loggedOn(home)) === 3, "tick 3 in the home's log: still suspended there");

    const again = await openOn(home);
    expect(JSON.parse((await connectNamespace(again, "/", { pid, offset })).slice(2))).toEqual({ sid: id, pid });
    await emitWithAck(again, ["echo", "settled"]);
    expect(ticksOf(again.inbox.log)).toEqual([1, 2, 3]);
    for (const c of [conn, again]) c.close();
    sender.close();
  }, 60_000);

  it("suspends the socket on the taker when its client leaves during the hand-over; it recovers from there", async () => {
    const { room, sender, id, pid, offset, home, taker, conn } = await heldHandOver("handover-left");
    conn.close(); // a transport close: recoverable
    await until(async () => (await suspendedOn(taker, id)) === 1, "the socket suspended on the taker");
    await setRecovery(true); // the second phase: the home hands its log over, the taker keeps it as the socket's log
    await until(async () => (await loggedOn(taker)) === 2, "ticks 1 and 2 in the taker's log");
    sender.emit("to-room", room, "tick", 3);
    await until(async () => (await loggedOn(taker)) === 3, "tick 3 in the taker's log");
    expect(await loggedOn(home)).toBe(0);

    // Back through its home, which takes it from the taker (its forward) in two phases too.
    const again = await openOn(home);
    expect(JSON.parse((await connectNamespace(again, "/", { pid, offset })).slice(2))).toEqual({ sid: id, pid });
    sender.emit("to-room", room, "tick", 4);
    await until(() => ticksOf(again.inbox.log).includes(4), "tick 4");
    expect(ticksOf(again.inbox.log)).toEqual([1, 2, 3, 4]);
    expect(await loggedOn(taker)).toBe(0);
    again.close();
    sender.close();
  }, 60_000);
});
