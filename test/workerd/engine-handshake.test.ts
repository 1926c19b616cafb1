/**
 * Engine.IO handshakes and every HTTP error reply, byte for byte
 * (engine.io's `Server.errors`: {"code":N,"message":"..."} with status 400).
 */
import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { base64url, fromBase64url } from "../../protocol/base64";
import { engineUrl, expectEngineError, hostOf, PollingSession, WebSocketSession } from "./engine-client";

const open: Array<PollingSession | WebSocketSession> = [];
afterEach(async () => {
  for (const session of open.splice(0)) {
    if (session instanceof WebSocketSession) session.close();
    else await session.stop();
  }
});

const OPEN_KEYS = ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"];

describe("handshake", () => {
  it("polling: 0{sid,upgrades:[websocket],pingInterval,pingTimeout,maxPayload} as text/plain", async () => {
    const response = await SELF.fetch(engineUrl({ EIO: "4", transport: "polling" }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    const body = await response.text();
    expect(body[0]).toBe("0");
    expect(body).not.toContain("\x1e");
    const packet = JSON.parse(body.slice(1)) as Record<string, unknown>;
    expect(Object.keys(packet)).toEqual(OPEN_KEYS);
    expect(packet).toMatchObject({ upgrades: ["websocket"], pingInterval: 300, pingTimeout: 200, maxPayload: 1_000_000 });
    expect(packet.sid).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{22}$/);
    expect(hostOf(packet.sid as string)).toMatch(/^local:[0-3]$/);
  });

  it("websocket: the first frame is 0{…} with upgrades: []", async () => {
    const session = await WebSocketSession.connect();
    open.push(session);
    const first = await session.inbox.take(() => true);
    expect(typeof first).toBe("string");
    const text = first as string;
    expect(text[0]).toBe("0");
    const packet = JSON.parse(text.slice(1)) as Record<string, unknown>;
    expect(Object.keys(packet)).toEqual(OPEN_KEYS);
    expect(packet).toMatchObject({ upgrades: [], pingInterval: 300, pingTimeout: 200, maxPayload: 1_000_000 });
  });

  it("every handshake mints a different sid", async () => {
    const sids = new Set<string>();
    for (let i = 0; i < 8; i++) sids.add((await PollingSession.handshake()).sid);
    expect(sids.size).toBe(8);
  });

  it("the path without trailing slash works too", async () => {
    const response = await SELF.fetch("http://edgeio.test/socket.io?EIO=4&transport=polling");
    expect(response.status).toBe(200);
    expect((await response.text()).startsWith("0{")).toBe(true);
  });
});

describe("error replies", () => {
  it("bad EIO version (3, missing, abc) → 400 code 5", async () => {
    for (const EIO of ["3", undefined, "abc", "5"]) {
      await expectEngineError(await SELF.fetch(engineUrl({ EIO, transport: "polling" })), 400, 5, "Unsupported protocol version");
    }
  });

  it("unknown or missing transport → 400 code 0", async () => {
    for (const transport of ["flashsocket", undefined, ""]) {
      await expectEngineError(await SELF.fetch(engineUrl({ EIO: "4", transport })), 400, 0, "Transport unknown");
    }
  });

  it("handshake with POST or PUT → 400 code 2", async () => {
    for (const method of ["POST", "PUT"]) {
      const response = await SELF.fetch(engineUrl({ EIO: "4", transport: "polling" }), { method, body: "40" });
      await expectEngineError(response, 400, 2, "Bad handshake method");
    }
  });

  it("websocket transport without an Upgrade header → 400 code 3", async () => {
    await expectEngineError(await SELF.fetch(engineUrl({ EIO: "4", transport: "websocket" })), 400, 3, "Bad request");
    const session = await PollingSession.handshake();
    await expectEngineError(await SELF.fetch(engineUrl({ EIO: "4", transport: "websocket", sid: session.sid })), 400, 3, "Bad request");
  });

  it("an unknown sid → 400 code 1 (GET, POST and WebSocket)", async () => {
    const unknown = "bG9jYWw6MA.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA";
    await expectEngineError(await SELF.fetch(engineUrl({ EIO: "4", transport: "polling", sid: unknown })), 400, 1, "Session ID unknown");
    await expectEngineError(
      await SELF.fetch(engineUrl({ EIO: "4", transport: "polling", sid: unknown }), { method: "POST", body: "40" }),
      400,
      1,
      "Session ID unknown",
    );
    await expectEngineError(
      await SELF.fetch(engineUrl({ EIO: "4", transport: "websocket", sid: unknown }), { headers: { Upgrade: "websocket" } }),
      400,
      1,
      "Session ID unknown",
    );
    for (const garbage of ["nope", "a.b.c", "", "x".repeat(300)]) {
      const response = await SELF.fetch(engineUrl({ EIO: "4", transport: "polling", sid: garbage }));
      if (garbage === "") {
        // An empty sid is no sid: a new handshake.
        expect(response.status).toBe(200);
        await response.text();
        continue;
      }
      await expectEngineError(response, 400, 1, "Session ID unknown");
    }
  });

  it("a well-signed sid whose session ended → 400 code 1", async () => {
    const session = await PollingSession.handshake();
    await session.send("1");
    await expectEngineError(await session.get(), 400, 1, "Session ID unknown");
  });

  it("a tampered sid (one character of the host, random or mac part flipped) → 400 code 1", async () => {
    const session = await PollingSession.handshake();
    await session.send("6"); // the genuine sid verified first (the Worker remembers verified sids)
    const parts = session.sid.split(".");
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);
    const tampered: string[] = [];
    for (let part = 0; part < 3; part++) {
      for (const at of [0, parts[part].length - 1]) {
        const copy = [...parts];
        copy[part] = flip(copy[part], at);
        tampered.push(copy.join("."));
      }
    }
    // Another real host name with the original random and mac: routable, but not signed.
    const otherHost = hostOf(session.sid) === "local:0" ? "local:1" : "local:0";
    tampered.push([base64url(new TextEncoder().encode(otherHost)), parts[1], parts[2]].join("."));
    for (const sid of tampered) {
      expect(sid).not.toBe(session.sid);
      await expectEngineError(await SELF.fetch(engineUrl({ EIO: "4", transport: "polling", sid })), 400, 1, "Session ID unknown");
      await expectEngineError(
        await SELF.fetch(engineUrl({ EIO: "4", transport: "polling", sid }), { method: "POST", body: "40" }),
        400,
        1,
        "Session ID unknown",
      );
    }
    expect(new TextDecoder().decode(fromBase64url(parts[0]))).toBe(hostOf(session.sid));
    // The genuine sid still works after all that.
    const response = await session.post("40");
    expect(await response.text()).toBe("ok");
    const poll = await session.get();
    expect(await poll.text()).toMatch(/^40\{"sid":"[^"]+"\}/);
  });

  it("polling with a sid and a method other than GET/POST → 500 with an empty body (as engine.io)", async () => {
    const session = await PollingSession.handshake();
    const response = await SELF.fetch(engineUrl({ EIO: "4", transport: "polling", sid: session.sid }), { method: "PUT", body: "x" });
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("");
  });
});
