/**
 * WebSocket transport byte by byte (direct sessions, raw binary frames) and the
 * polling → websocket upgrade (2probe / 3probe / noop 6 / 5).
 */
import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import {
  connectNamespace,
  connectOk,
  echoRoundTrip,
  emitWithAck,
  engineUrl,
  expectEngineError,
  isBinary,
  nextAckId,
  nextEvent,
  PollingSession,
  sleep,
  startsWith,
  WebSocketSession,
} from "./engine-client";

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const dispose of cleanup.splice(0)) await dispose();
});

async function direct(): Promise<WebSocketSession> {
  const session = await WebSocketSession.handshake();
  cleanup.push(() => session.close());
  return session;
}

const bufferOf = (...values: number[]) => new Uint8Array(values).buffer;

describe("websocket transport", () => {
  it("CONNECT, EVENT and ACK as one text frame per packet", async () => {
    const session = await direct();
    const socketId = await connectOk(session);
    expect(await session.inbox.take(startsWith("42"))).toBe(`42["welcome",{"id":"${socketId}","restored":false}]`);
    await session.send('42["echo","hi"]');
    expect(await session.inbox.take(startsWith('42["echo"'))).toBe('42["echo","hi"]');
    expect(await emitWithAck(session, ["echo", { a: [1] }])).toEqual([{ a: [1] }]);
  });

  it("namespaces: /admin with auth, invalid namespace, middleware error", async () => {
    const session = await direct();
    expect(await connectNamespace(session, "/nope")).toBe('44/nope,{"message":"Invalid namespace"}');
    expect(await connectNamespace(session, "/admin", { token: "nope" })).toBe(
      '44/admin,{"message":"not authorized","data":{"reason":"bad_token"}}',
    );
    const admin = await connectOk(session, "/admin", { token: "let-me-in" });
    expect(await emitWithAck(session, ["whoami"], "/admin")).toEqual([{ id: admin, role: "admin", auth: { token: "let-me-in" } }]);
  });

  it("ACK server → client over WebSocket", async () => {
    const session = await direct();
    await connectOk(session);
    const id = nextAckId();
    await session.send(`42${id}["ask","ping?"]`);
    const question = (await session.inbox.take((f) => typeof f === "string" && /^42\d+\["question"/.test(f))) as string;
    const askId = /^42(\d+)\["question","ping\?"\]$/.exec(question)![1];
    await session.send(`43${askId}["pong!"]`);
    expect(await session.inbox.take(startsWith(`43${id}`))).toBe(`43${id}[{"answer":"pong!"}]`);
  });

  it("binary: raw binary frames both ways, several attachments, nested placeholders", async () => {
    const session = await direct();
    await connectOk(session);
    const data = ["echo", { x: { _placeholder: true, num: 0 }, y: [[{ _placeholder: true, num: 1 }]] }];
    await session.send(`452-${JSON.stringify(data)}`, bufferOf(1, 2, 3), bufferOf(255, 0));
    const head = (await session.inbox.take(startsWith("45"))) as string;
    expect(head).toBe(`452-${JSON.stringify(data)}`);
    const first = await session.inbox.take(isBinary);
    const second = await session.inbox.take(isBinary);
    expect(new Uint8Array(first as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]));
    expect(new Uint8Array(second as ArrayBuffer)).toEqual(new Uint8Array([255, 0]));
    // No "b"-prefixed base64 text on a WebSocket.
    expect(session.inbox.log.some((f) => typeof f === "string" && f.startsWith("b"))).toBe(false);

    const id = nextAckId();
    await session.send(`451-${id}["echo",{"_placeholder":true,"num":0}]`, bufferOf(7));
    expect(await session.inbox.take(startsWith("46"))).toBe(`461-${id}[{"_placeholder":true,"num":0}]`);
    expect(new Uint8Array((await session.inbox.take(isBinary)) as ArrayBuffer)).toEqual(new Uint8Array([7]));
  });

  it("client close packet 1 ends the session", async () => {
    const session = await direct();
    await connectOk(session);
    await session.send("1");
    await session.ended();
    await expectEngineError(
      await SELF.fetch(engineUrl({ EIO: "4", transport: "polling", sid: session.sid })),
      400,
      1,
      "Session ID unknown",
    );
  });

  it("a server-side socket.disconnect(true) sends 41 and closes the WebSocket", async () => {
    const session = await direct();
    await connectOk(session);
    await session.send('42["disconnect-me",true]');
    await session.ended();
    expect(session.inbox.log).toContain("41");
  });
});

describe("upgrade polling → websocket", () => {
  it("2probe/3probe, noop to the pending GET, 5; then polling is refused and a second WebSocket is closed", async () => {
    const polling = await PollingSession.handshake();
    polling.pauseOnNoop = true;
    polling.start();
    cleanup.push(() => polling.stop());
    const socketId = await connectOk(polling);
    await nextEvent(polling, "welcome");

    const ws = await WebSocketSession.forUpgrade(polling.sid);
    cleanup.push(() => ws.close());
    await ws.send("2probe");
    expect(await ws.inbox.take(() => true)).toBe("3probe");

    // The held GET is released with a noop, and the client stops polling.
    await polling.ended();
    expect(polling.inbox.log[polling.inbox.log.length - 1]).toBe("6");
    expect(polling.endStatus).toBeNull();

    // Sent while paused: queued for the session, handed to the WebSocket after "5".
    await polling.send('42["echo","during upgrade"]');
    await ws.send("5");
    expect(await ws.inbox.take(startsWith('42["echo"'))).toBe('42["echo","during upgrade"]');
    await echoRoundTrip(ws);
    expect(await emitWithAck(ws, ["transport"])).toEqual(["websocket"]);
    expect(await emitWithAck(ws, ["get-data"])).toEqual([{ events: 2 }]);

    // Polling is over for this sid.
    await expectEngineError(await polling.get(), 400, 3, "Bad request");
    const post = await polling.post('42["echo","late"]');
    await expectEngineError(post, 400, 3, "Bad request");

    // A second WebSocket for the same sid is accepted, then closed at once.
    const second = await WebSocketSession.forUpgrade(polling.sid);
    await second.ended();
    expect(second.closeCode).not.toBeNull();
    // ...and the first one carries on, same socket.
    const welcome = ws.inbox.log.find((f) => typeof f === "string" && f.startsWith('42["welcome"'));
    expect(welcome).toBeUndefined();
    await echoRoundTrip(ws);
    expect(socketId).toBeTruthy();
  });

  it("closed by the server while the client pauses polling for the upgrade: the probe stays, its 5 gets the close", async () => {
    const polling = await PollingSession.handshake();
    polling.pauseOnNoop = true;
    polling.start();
    cleanup.push(() => polling.stop());
    await connectOk(polling);
    await nextEvent(polling, "welcome");
    const ws = await WebSocketSession.forUpgrade(polling.sid);
    cleanup.push(() => ws.close());
    await ws.send("2probe");
    expect(await ws.inbox.take(() => true)).toBe("3probe");
    await polling.ended(); // the noop arrived: this client polls no more until its upgrade is done

    // The app closes the connection now. Closing the probe here would leave a real
    // engine.io-client paused for good (it never resumes polling after a failed probe).
    await polling.send('42["close-transport"]');
    await sleep(200);
    expect(ws.closeCode).toBeNull();

    await ws.send("5");
    expect(await ws.inbox.take(startsWith("1"))).toBe("1");
    await ws.ended();
    await expectEngineError(await polling.get(), 400, 1, "Session ID unknown");
  });

  it("a failed probe (anything but 2probe/5) closes the probe; the session stays on polling", async () => {
    const polling = await PollingSession.handshake();
    polling.start();
    cleanup.push(() => polling.stop());
    await connectOk(polling);
    const ws = await WebSocketSession.forUpgrade(polling.sid);
    await ws.send("4garbage");
    await ws.ended();
    await echoRoundTrip(polling);
    expect(await emitWithAck(polling, ["transport"])).toEqual(["polling"]);
  });

  it("frames sent after a failed probe, before its close arrives, are ignored: no upgrade onto the closed probe", async () => {
    // Found by fuzzing (test/security/e2e/fuzz.test.ts): the "5" right behind a bad probe frame
    // switched the session to the closed WebSocket, every later send threw, and a flood of
    // echoes on it stalled the host for everyone.
    const polling = await PollingSession.handshake();
    polling.start();
    cleanup.push(() => polling.stop());
    await connectOk(polling);
    const ws = await WebSocketSession.forUpgrade(polling.sid);
    cleanup.push(() => ws.close());
    await ws.send("2p/obe", "2probe", "5", `42${nextAckId()}["echo","after"]`);
    await ws.ended();
    expect(ws.closeCode).toBe(1002);
    expect(ws.inbox.log).toEqual([]);
    await echoRoundTrip(polling);
    expect(await emitWithAck(polling, ["transport"])).toEqual(["polling"]);
  });

  it("a direct WebSocket session cannot be 'upgraded' again: a second WebSocket is closed", async () => {
    const session = await direct();
    await connectOk(session);
    const second = await WebSocketSession.forUpgrade(session.sid);
    await second.ended();
    await echoRoundTrip(session);
  });
});
