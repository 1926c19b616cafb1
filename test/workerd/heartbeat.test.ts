/**
 * Heartbeat (pingInterval 300 ms / pingTimeout 200 ms in this project) and connectTimeout
 * (1000 ms), with real waiting: the host's single alarm sends "2" on both transports, a
 * session that answers "3" stays, one that does not is closed after the pong deadline.
 */
import { runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { HostStore } from "../../durable-objects/host-store";
import { connectOk, echoRoundTrip, engineUrl, expectEngineError, hostStubFor, PollingSession, WebSocketSession } from "./engine-client";

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const dispose of cleanup.splice(0)) await dispose();
});

async function polling(): Promise<PollingSession> {
  const session = await PollingSession.handshake();
  cleanup.push(() => session.stop());
  return session.start();
}

async function webSocket(): Promise<WebSocketSession> {
  const session = await WebSocketSession.handshake();
  cleanup.push(() => session.close());
  return session;
}

async function expectGone(sid: string): Promise<void> {
  await expectEngineError(await SELF.fetch(engineUrl({ EIO: "4", transport: "polling", sid })), 400, 1, "Session ID unknown");
}

const PINGS = 5; // 5 × 300 ms: longer than CONNECT_TIMEOUT, so a connected session also outlives that.

describe("heartbeat on long-polling", () => {
  it("pings arrive as 2; a session that answers 3 stays open", async () => {
    const session = await polling();
    await connectOk(session);
    for (let i = 0; i < PINGS; i++) expect(await session.inbox.take((f) => f === "2")).toBe("2");
    expect(session.inbox.ended).toBe(false);
    await echoRoundTrip(session);
  });

  it("a session that does not answer is closed after the pong deadline", async () => {
    const session = await polling();
    session.autoPong = false;
    await connectOk(session);
    await session.inbox.take((f) => f === "2");
    await session.ended(3000);
    // Either the held GET carried the close packet, or the session was already gone.
    if (session.endStatus === null) expect(session.inbox.log[session.inbox.log.length - 1]).toBe("1");
    else expect(session.endBody).toBe('{"code":1,"message":"Session ID unknown"}');
    await expectGone(session.sid);
  });
});

describe("heartbeat on WebSocket", () => {
  it("pings arrive as 2; each 3 is answered 6 by the runtime (auto-response) and the session stays", async () => {
    const session = await webSocket();
    await connectOk(session);
    for (let i = 0; i < PINGS; i++) expect(await session.inbox.take((f) => f === "2")).toBe("2");
    // The pong "3" never reaches the object: the runtime's auto-response answers "6" for it,
    // and the pong check reads getWebSocketAutoResponseTimestamp instead.
    const noops = session.inbox.log.filter((f) => f === "6").length;
    expect(noops).toBeGreaterThanOrEqual(PINGS - 1);
    expect(session.inbox.ended).toBe(false);
    // No pong was ever recorded by the object itself (last_pong_at still equals created_at),
    // so what kept the session open is the auto-response timestamp. The store's row: a session
    // that changed nothing is kept back in its attachment, not written (host-store.ts).
    const row = await runInDurableObject(hostStubFor(session.sid), (instance) =>
      (instance as unknown as { store: HostStore }).store.session(session.sid),
    );
    expect(row).not.toBeNull();
    expect(row?.last_pong_at).toBe(row?.created_at);
    await echoRoundTrip(session);
  });

  it("a session that does not answer is closed after the pong deadline", async () => {
    const session = await webSocket();
    session.autoPong = false;
    await connectOk(session);
    await session.inbox.take((f) => f === "2");
    await session.ended(3000);
    expect(session.inbox.log.filter((f) => f === "6")).toHaveLength(0);
    await expectGone(session.sid);
  });

  it("the host keeps one alarm, due within one ping interval (plus one grid step), while it has sessions", async () => {
    const session = await webSocket();
    await connectOk(session);
    const scheduled = await runInDurableObject(hostStubFor(session.sid), (_instance, state) => state.storage.getAlarm());
    expect(scheduled).not.toBeNull();
    // Pings fall on the heartbeat grid: at most pingInterval / 4 after they are due.
    expect(scheduled!).toBeLessThanOrEqual(Date.now() + 300 + 75);
  });
});

describe("connectTimeout", () => {
  it("a polling session that never sends 40 is closed", async () => {
    const session = await polling();
    await session.ended(3000);
    if (session.endStatus === null) expect(session.inbox.log[session.inbox.log.length - 1]).toBe("1");
    else expect(session.endStatus).toBe(400);
    await expectGone(session.sid);
  });

  it("a WebSocket session that never sends 40 is closed", async () => {
    const session = await webSocket();
    await session.ended(3000);
    await expectGone(session.sid);
  });

  it("a CONNECT_ERROR does not count as connected: the session is still closed", async () => {
    const session = await webSocket();
    await session.send('40/admin,{"token":"wrong"}');
    await session.inbox.take((f) => typeof f === "string" && f.startsWith("44/admin,"));
    await session.ended(3000);
    await expectGone(session.sid);
  });
});
