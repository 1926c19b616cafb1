/**
 * The work a host is billed for, counted (never timed): DO invocations, SQL statements and
 * SQLite rows read and written per operation, from the host's own counters (`stats().work`,
 * durable-objects/billed-work.ts), and Worker requests per polling round trip. The alarm's
 * own work (pings every 300 ms here) is left out: each figure is the operation's.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { BilledWorkCounts, SqlCounts } from "../../durable-objects/billed-work";
import { DEV_SID_SECRET } from "../../durable-objects/config";
import { hmacCounts } from "../../protocol/hmac";
import { verifySocketId } from "../../protocol/ids";
import { engineRequests } from "../../worker/engine-route";
import { connectOk, emitWithAck, nextEvent, onHost, PollingSession, prefix, sleep, WebSocketSession } from "./engine-client";

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const dispose of cleanup.splice(0)) await dispose();
});

const HOST = "local:1";

async function work(host: string): Promise<BilledWorkCounts> {
  return (await env.CONNECTION_HOST.get(env.CONNECTION_HOST.idFromName(host)).stats()).work;
}

/** SQL run by everything but the alarm (heartbeats keep firing during a test). */
function sqlOf(counts: BilledWorkCounts): SqlCounts {
  const total = { statements: 0, rowsRead: 0, rowsWritten: 0 };
  for (const [kind, sql] of Object.entries(counts.sqlBy)) {
    if (kind === "alarm" || kind === "construction" || kind === "stats") continue;
    total.statements += sql.statements;
    total.rowsRead += sql.rowsRead;
    total.rowsWritten += sql.rowsWritten;
  }
  return total;
}

function delta(before: BilledWorkCounts, after: BilledWorkCounts) {
  const a = sqlOf(after);
  const b = sqlOf(before);
  return {
    statements: a.statements - b.statements,
    rowsRead: a.rowsRead - b.rowsRead,
    rowsWritten: a.rowsWritten - b.rowsWritten,
    fetches: after.invocations.fetch - before.invocations.fetch,
    messages: after.invocations.webSocketMessage - before.invocations.webSocketMessage,
    closes: after.invocations.webSocketClose - before.invocations.webSocketClose,
    rpcs: after.invocations.rpc - before.invocations.rpc,
  };
}

async function webSocketOn(host: string, query: Record<string, string> = {}): Promise<WebSocketSession> {
  const session = await onHost(
    host,
    () => WebSocketSession.handshake(query),
    (s) => s.close(),
  );
  cleanup.push(() => session.close());
  return session;
}

const figures: Record<string, unknown> = {};

describe("work per operation on one host", () => {
  it("a WebSocket connect: 1 DO invocation from the Worker (the upgrade), then the CONNECT; no row written (kept back in the attachment)", async () => {
    await webSocketOn(HOST); // makes sure the host exists and has its name
    const before = await work(HOST);
    const session = await webSocketOn(HOST);
    // The handshake writes nothing: the session's row is written with the CONNECT's socket row,
    // so a connect commits once (host-store.ts, createSession).
    const handshake = delta(before, await work(HOST));
    figures.handshake = handshake;
    expect(handshake.fetches).toBe(1);
    expect(handshake.rowsWritten).toBe(0);
    expect(handshake.statements).toBe(0);
    const signaturesBefore = hmacCounts.signatures;
    const socketId = await connectOk(session, "/");
    await nextEvent(session, "welcome");
    // One HMAC per connect, the handshake's: the socket id came with the sid (protocol/ids.ts mintSession).
    expect(hmacCounts.signatures - signaturesBefore).toBe(0);
    expect(socketId.startsWith(`${session.sid.split(".").slice(0, 2).join(".")}`)).toBe(true);
    expect(await verifySocketId(DEV_SID_SECRET, socketId)).toBe(HOST);
    const after = await work(HOST);
    const d = delta(before, after);
    figures.connect = d;
    expect(d.fetches).toBe(1);
    expect(d.messages).toBe(1);
    // Nothing is written: the session and its socket (socket.data, which the echo app's handler
    // sets, included) stay in memory and in the WebSocket's attachment, so the CONNECT reply waits
    // for no commit (host-store.ts, kept-back sockets). It was 4 rows (6 with rowid tables).
    expect(d.rowsWritten).toBe(0);
    expect(d.statements).toBeLessThanOrEqual(1); // a read: the host's socket count, once per instance
    // The socket's own first join writes them, before the membership that names the socket
    // (session 1, socket 2 with its index, the data in the socket's row; 3 more: the membership
    // and its two indexes). Other sessions' writes and the alarms leave them kept back
    // (eviction-kept-back.test.ts, host-load-work.test.ts).
    const beforeJoin = await work(HOST);
    expect(await emitWithAck(session, ["join", "after-connect"])).toEqual([]);
    const join = delta(beforeJoin, await work(HOST));
    figures.joinAfterConnect = join;
    expect(join.rowsWritten).toBeLessThanOrEqual(6);
    expect(join.rowsWritten).toBeGreaterThanOrEqual(3);
  });

  it("a WebSocket handshake too big for an attachment writes its session row at once (1 row), not again at the CONNECT", async () => {
    await webSocketOn(HOST);
    const before = await work(HOST);
    const session = await webSocketOn(HOST, { big: "x".repeat(2000) });
    const handshake = delta(before, await work(HOST));
    expect(handshake.rowsWritten).toBe(1);
    await connectOk(session, "/");
    await nextEvent(session, "welcome");
    // The session's row is written at its handshake, so its socket is too, as before (socket 2, socket.data 1).
    expect(delta(before, await work(HOST)).rowsWritten).toBeLessThanOrEqual(4);
  });

  it("an event whose handler changes nothing writes no row (WebSocket)", async () => {
    const session = await webSocketOn(HOST);
    await connectOk(session, "/");
    await nextEvent(session, "welcome");
    await emitWithAck(session, ["count"]); // warm: the first event after connect
    const before = await work(HOST);
    expect(await emitWithAck(session, ["count"])).toEqual([0]);
    const after = await work(HOST);
    const d = delta(before, after);
    figures.eventWebSocket = d;
    expect(d.messages).toBe(1);
    expect(d.rowsWritten).toBe(0);
  });

  it("a broadcast to a room of N sockets on one host reads the session metadata O(1) times, not O(N)", async () => {
    const members: WebSocketSession[] = [];
    for (let i = 0; i < 10; i++) {
      const member = await webSocketOn(HOST);
      await connectOk(member, "/");
      await nextEvent(member, "welcome");
      expect(await emitWithAck(member, ["join", "work-room"])).toEqual([]);
      members.push(member);
    }
    const sender = await webSocketOn(HOST);
    await connectOk(sender, "/");
    await nextEvent(sender, "welcome");
    const measure = async (n: number) => {
      const before = await work(HOST);
      const got = members.slice(0, n).map((member) => nextEvent(member, "news"));
      await sender.send(`${prefix(2)}${JSON.stringify(["to-room", "work-room", "news", n])}`);
      expect(await Promise.all(got)).toEqual(members.slice(0, n).map(() => [n]));
      await sleep(20);
      return delta(before, await work(HOST));
    };
    // The first broadcast reads the room's members once (one statement, whatever N), and the
    // sender's rooms for `except`; the next one reads nothing: no statement per recipient.
    const first = await measure(10);
    const second = await measure(10);
    figures.broadcast10 = { first, second };
    expect(first.statements).toBeLessThanOrEqual(2);
    expect(second.statements).toBe(0);
    expect(first.rowsWritten + second.rowsWritten).toBe(0);
  }, 30_000);
});

describe("disconnects", () => {
  it("a WebSocket client leaving (its namespace's 41, then its close) with rows written: one DELETE per table it has rows in, all on the 41, nothing written by the close (one commit); no session UPDATE, no outbox DELETE, no SELECT", async () => {
    // Two other sockets of "/" on the host: this one's leave is not the namespace's last-socket
    // edge (with exactly one left, that check also looks the deleted socket up: a SELECT).
    for (let i = 0; i < 2; i++) {
      const other = await webSocketOn(HOST);
      await connectOk(other, "/");
      await nextEvent(other, "welcome");
    }
    const session = await webSocketOn(HOST);
    await connectOk(session, "/");
    await nextEvent(session, "welcome");
    // A join writes the kept-back session's and socket's rows, and the membership's.
    expect(await emitWithAck(session, ["join", "leaving-room"])).toEqual([]);
    const settled = async (before: BilledWorkCounts, done: (d: ReturnType<typeof delta>) => boolean) => {
      let d = delta(before, await work(HOST));
      for (let i = 0; i < 100 && !done(d); i++) {
        await sleep(20);
        d = delta(before, await work(HOST));
      }
      await sleep(50); // nothing else follows
      return delta(before, await work(HOST));
    };
    const before = await work(HOST);
    await session.send(prefix(1));
    const left = await settled(before, (d) => d.messages >= 1 && d.statements >= 3);
    const beforeClose = await work(HOST);
    session.close();
    const closed = await settled(beforeClose, (d) => d.closes >= 1);
    figures.leave = { namespace: left, close: closed };
    expect(left.messages).toBe(1);
    // One DELETE each from socket_rooms (the joined room), sockets and, the session having no
    // socket left, sessions (it waits in its attachment for the close).
    expect(left.statements).toBe(3);
    expect(left.rowsWritten).toBe(3);
    // A DELETE reads the row it deletes; a SELECT of the deleted socket would add none but its statement.
    expect(left.rowsRead).toBeLessThanOrEqual(3);
    expect(closed.closes).toBe(1);
    expect(closed.statements).toBe(0);
  });
});

describe("long-polling", () => {
  it("a busy session's round trip (an event with an ack answered on the held GET) is 2 Worker requests, 2 host invocations (the GET and the POST, both RPCs) and no SQL", async () => {
    const session = await onHost(
      HOST,
      () => PollingSession.handshake(),
      (s) => s.post("1"),
    );
    cleanup.push(() => session.post("1"));
    await session.send("40");
    let received = "";
    while (!received.includes('42["welcome"')) {
      const body = await (await session.get()).text();
      if (body.split("\x1e").includes("2")) await session.post("3");
      received += `${body}\x1e`;
    }
    // Pings come every 300 ms here: each round starts right after one, and is retried if one crosses it.
    for (let round = 0; round < 10; round++) {
      while (!(await (await session.get()).text()).split("\x1e").includes("2"));
      await session.post("3");
      const requestsBefore = engineRequests.count;
      const before = await work(HOST);
      const get = session.get().then((r) => r.text()); // request 1: the GET, held by the host
      await sleep(30);
      const id = 500 + round;
      await session.send(`${prefix(2)}${id}${JSON.stringify(["count"])}`); // request 2: the POST
      const answer = (await get).split("\x1e");
      const requests = engineRequests.count - requestsBefore;
      const d = delta(before, await work(HOST));
      if (answer.includes("2")) await session.post("3");
      if (answer.join() !== `${prefix(3)}${id}[0]`) continue; // a ping crossed it: again
      figures.pollingRoundTrip = { ...d, workerRequests: requests };
      expect(requests).toBe(2);
      expect(d.rowsWritten).toBe(0);
      // The host: the GET and the POST, both RPCs. The session is busy (it POSTed a moment ago),
      // so its GET waits in the host's memory and the ack answers that RPC: no channel to open
      // and close (memory-polls.ts), and no SQL at all (nothing is queued in the outbox).
      expect({ fetches: d.fetches, messages: d.messages, closes: d.closes, rpcs: d.rpcs, statements: d.statements }).toEqual({
        fetches: 0,
        messages: 0,
        closes: 0,
        rpcs: 2,
        statements: 0,
      });
      return;
    }
    throw new Error("every round trip crossed a ping");
  }, 15_000);
});

describe("figures", () => {
  it("prints the measured work per operation", () => {
    console.log(`host work per operation: ${JSON.stringify(figures, null, 2)}`);
    expect(Object.keys(figures).length).toBeGreaterThan(0);
  });
});
