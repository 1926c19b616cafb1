/**
 * `to(socketId)` after a recovery through another host (docs/recovery.md, "Forwards"): the
 * socket's id names its home, which forwards what it is sent to the host the socket moved to.
 * An operation that host starts itself reaches the socket there directly too (a sender always
 * applies its own operations), and so does one that also names a room with members there: the
 * socket must still get each once. Each emit is sent from inside a host (or from outside the
 * hosts, as the HTTP API) and awaited until every host answered (the home answers once its
 * forward was applied), so a second copy would be on the wire before the echo that follows.
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { ConnectionHost } from "../../durable-objects/connection-host";
import { clusterOf, eventOp } from "../../durable-objects/cluster/cluster";
import { connectNamespace, emitWithAck, type Frame, hostOf, onHost, WebSocketSession } from "./engine-client";
import { HOSTS, stubOf } from "./recovery-helpers";

async function setRecovery(on: boolean): Promise<void> {
  await Promise.all(HOSTS.map((host) => stubOf(host).testRecovery(on ? { maxDisconnectionDuration: 30_000 } : null)));
}

afterEach(() => setRecovery(false));

/** The "tick" values a connection received, in order. */
function ticksOf(log: Frame[]): unknown[] {
  return log.flatMap((frame) => (typeof frame === "string" && frame.startsWith('42["tick"') ? [JSON.parse(frame.slice(2))[1]] : []));
}

const openOn = (host: string) =>
  onHost(
    host,
    () => WebSocketSession.handshake(),
    (c) => c.close(),
  );

/** `io.to(id).emit("tick", n)` started on `host`, resolved once every host it reached has answered. */
function emitFrom(host: string, id: string, n: number): Promise<void> {
  return runInDurableObject(stubOf(host), (instance: ConnectionHost) =>
    instance.fanout(eventOp({ nsp: "/", rooms: [id], except: [] }, "tick", n)),
  );
}

/** A socket connected on its home, dropped, and recovered through another host (the taker). */
async function recoveredElsewhere() {
  await setRecovery(true);
  const first = await WebSocketSession.handshake();
  const { sid: id, pid } = JSON.parse((await connectNamespace(first, "/")).slice(2)) as { sid: string; pid: string };
  const home = hostOf(id);
  const response = await SELF.fetch(`http://edgeio.test/_edgeio/test/drop?sid=${encodeURIComponent(first.sid)}`, { method: "POST" });
  expect(response.status).toBe(200);
  const taker = HOSTS.find((host) => host !== home)!;
  const conn = await openOn(taker);
  expect(JSON.parse((await connectNamespace(conn, "/", { pid })).slice(2))).toEqual({ sid: id, pid });
  return { id, home, taker, conn };
}

describe("to(socketId) after a recovery through another host", () => {
  it("delivers each emit once, in order, whichever host sends it", async () => {
    const { id, home, taker, conn } = await recoveredElsewhere();
    const third = HOSTS.find((host) => host !== home && host !== taker)!;
    // The taker sends to its own recovered socket by id: it reaches it directly, and its home
    // (the id names it) has a forward to the taker. Then the home itself, then a third host.
    const senders = [taker, taker, home, third, taker];
    for (const [n, host] of senders.entries()) await emitFrom(host, id, n);
    await emitWithAck(conn, ["echo", "settled"]); // every copy was on the wire before this answer
    expect(ticksOf(conn.inbox.log)).toEqual([0, 1, 2, 3, 4]);
    conn.close();
  }, 60_000);

  it("fetchSockets of the socket's id on the host it recovered on finds it once", async () => {
    const { id, conn } = await recoveredElsewhere();
    const [answer] = (await emitWithAck(conn, ["fetch-sockets", { room: id }])) as [{ sockets: Array<{ id: string }> }];
    expect(answer.sockets.map((socket) => socket.id)).toEqual([id]);
    conn.close();
  }, 60_000);

  it("an emit to the socket's id and a room its new host has other members of reaches it once", async () => {
    const { id, taker, conn } = await recoveredElsewhere();
    const room = `other-${crypto.randomUUID()}`;
    const witness = await openOn(taker);
    await connectNamespace(witness, "/");
    await emitWithAck(witness, ["join", room]);
    // From outside the hosts (as the HTTP API): the home (the id) and the taker (the room) are both called.
    for (const n of [0, 1]) await clusterOf(env).apply(eventOp({ nsp: "/", rooms: [id, room], except: [] }, "tick", n)).results;
    await emitWithAck(conn, ["echo", "settled"]);
    expect(ticksOf(conn.inbox.log)).toEqual([0, 1]);
    expect(ticksOf(witness.inbox.log)).toEqual([0, 1]);
    for (const c of [conn, witness]) c.close();
  }, 60_000);
});
