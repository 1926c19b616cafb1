/**
 * Bad input ends only the offending session. For every case a bystander session on the SAME
 * ConnectionHost (checked through the host encoded in both sids) keeps working afterwards.
 */
import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import {
  connectOk,
  echoRoundTrip,
  emitWithAck,
  engineUrl,
  expectEngineError,
  hostOf,
  onHost,
  PollingSession,
  WebSocketSession,
  type Conn,
} from "./engine-client";

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const dispose of cleanup.splice(0)) await dispose();
});

async function pollingSocket(): Promise<PollingSession> {
  const session = await PollingSession.handshake();
  session.start();
  cleanup.push(() => session.stop());
  await connectOk(session);
  return session;
}

async function webSocketSocket(): Promise<WebSocketSession> {
  const session = await WebSocketSession.handshake();
  cleanup.push(() => session.close());
  await connectOk(session);
  return session;
}

const disposeConn = async (conn: Conn) => {
  if (conn instanceof WebSocketSession) conn.close();
  else if (conn instanceof PollingSession) {
    await conn.send("1").catch(() => undefined);
    await conn.stop();
  }
};

/** A victim of the given transport plus a bystander of the other transport on the same host. */
async function withBystander<T extends Conn>(victim: T, openBystander: () => Promise<Conn>) {
  const bystander = await onHost<Conn>(hostOf(victim.sid), openBystander, disposeConn);
  expect(hostOf(bystander.sid)).toBe(hostOf(victim.sid));
  await echoRoundTrip(bystander);
  return { victim, bystander };
}

function victimAndBystander(kind: "polling"): Promise<{ victim: PollingSession; bystander: Conn }>;
function victimAndBystander(kind: "websocket"): Promise<{ victim: WebSocketSession; bystander: Conn }>;
async function victimAndBystander(kind: "polling" | "websocket") {
  if (kind === "polling") return withBystander(await pollingSocket(), webSocketSocket);
  return withBystander(await webSocketSocket(), pollingSocket);
}

async function expectSessionGone(sid: string): Promise<void> {
  await expectEngineError(await SELF.fetch(engineUrl({ EIO: "4", transport: "polling", sid })), 400, 1, "Session ID unknown");
}

async function expectBystanderFine(bystander: Conn): Promise<void> {
  await echoRoundTrip(bystander);
  // Its messages before and after the incident were all handled: 2 echoes counted.
  expect(await emitWithAck(bystander, ["count"])).toEqual([2]);
}

describe("bad input on long-polling ends only that session", () => {
  for (const body of ["9nope", "bnot*base64!", "", "4ok\x1e", "\x1e"]) {
    it(`an undecodable POST ${JSON.stringify(body)} → 400 code 3, session gone`, async () => {
      const { victim, bystander } = await victimAndBystander("polling");
      await expectEngineError(await victim.post(body), 400, 3, "Bad request");
      await victim.ended();
      expect(victim.inbox.log[victim.inbox.log.length - 1]).toBe("1");
      await expectSessionGone(victim.sid);
      await expectBystanderFine(bystander);
    });
  }

  it("a ping from the client (wrong heartbeat direction) closes the session", async () => {
    const { victim, bystander } = await victimAndBystander("polling");
    expect(await (await victim.post("2")).text()).toBe("ok");
    await victim.ended();
    await expectSessionGone(victim.sid);
    await expectBystanderFine(bystander);
  });

  for (const packet of [
    "4{bad",
    '42["unterminated',
    '42["disconnect"]',
    '42{"not":"an array"}',
    "4x",
    '40/admin,"auth must be an object"',
  ]) {
    it(`a malformed Socket.IO packet ${JSON.stringify(packet)} closes the session`, async () => {
      const { victim, bystander } = await victimAndBystander("polling");
      expect(await (await victim.post(packet)).text()).toBe("ok");
      await victim.ended();
      expect(victim.inbox.log).toContain("1");
      await expectSessionGone(victim.sid);
      await expectBystanderFine(bystander);
    });
  }

  it("an oversize POST (> maxPayload) → 413, session gone", async () => {
    const { victim, bystander } = await victimAndBystander("polling");
    const big = `42["echo","${"x".repeat(1_000_001)}"]`;
    const response = await victim.post(big);
    expect(response.status).toBe(413);
    await response.arrayBuffer();
    await victim.ended();
    await expectSessionGone(victim.sid);
    await expectBystanderFine(bystander);
  });

  it("a POST exactly at maxPayload is accepted", async () => {
    const session = await pollingSocket();
    const padding = 1_000_000 - '42["echo",""]'.length;
    const body = `42["echo","${"y".repeat(padding)}"]`;
    expect(body.length).toBe(1_000_000);
    expect(await (await session.post(body)).text()).toBe("ok");
    await echoRoundTrip(session);
  });

  it("two overlapping GETs → the newer supersedes the held one (noop), the session stays open", async () => {
    const { victim, bystander } = await victimAndBystander("polling");
    // The poll loop holds a GET; a second one supersedes it (an abandoned GET is not an overlap).
    // Whichever of the two GETs answers carries the frames: both feed the client's inbox.
    const overlapping = victim.get().then(async (response) => {
      expect(response.status).toBe(200);
      for (const packet of (await response.text()).split("\x1e")) if (packet !== "6") victim.inbox.push(packet);
    });
    await echoRoundTrip(victim);
    await overlapping;
    expect(victim.inbox.log).not.toContain("1");
    await expectBystanderFine(bystander);
  });

  it("a handler that throws is logged; its session and the others carry on", async () => {
    const { victim, bystander } = await victimAndBystander("polling");
    await victim.send('42["throw"]');
    await echoRoundTrip(victim);
    await expectBystanderFine(bystander);
  });
});

describe("bad input on WebSocket ends only that session", () => {
  for (const frame of ["9nope", "", "2", "4{bad", '42["unterminated', '42["connect"]']) {
    it(`frame ${JSON.stringify(frame)} closes the WebSocket session`, async () => {
      const { victim, bystander } = await victimAndBystander("websocket");
      await victim.send(frame);
      await victim.ended();
      expect(victim.closeCode).not.toBeNull();
      await expectSessionGone(victim.sid);
      await expectBystanderFine(bystander);
    });
  }

  it("an oversize message (> maxPayload) closes the WebSocket (1009)", async () => {
    const { victim, bystander } = await victimAndBystander("websocket");
    await victim.send(`42["echo","${"x".repeat(1_000_001)}"]`);
    await victim.ended();
    expect(victim.closeCode).toBe(1009);
    await expectSessionGone(victim.sid);
    await expectBystanderFine(bystander);
  });

  it("an oversize binary attachment closes the WebSocket too", async () => {
    const { victim, bystander } = await victimAndBystander("websocket");
    await victim.send('451-["echo",{"_placeholder":true,"num":0}]', new Uint8Array(1_000_001).buffer);
    await victim.ended();
    expect(victim.closeCode).toBe(1009);
    await expectBystanderFine(bystander);
  });

  it("too many attachments in one packet closes the session", async () => {
    const { victim, bystander } = await victimAndBystander("websocket");
    await victim.send('4511-["echo"]');
    await victim.ended();
    await expectSessionGone(victim.sid);
    await expectBystanderFine(bystander);
  });
});
