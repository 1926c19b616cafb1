/**
 * Engine.IO close paths and first-ping timing, byte by byte, as engine.io has them
 * (lib/socket.ts onClose / close, lib/transports/polling.ts doClose / onClose):
 * - a fault (undecodable POST, ping timeout) forgets the session at once: a held GET hears
 *   "1", and with none held the next request gets 400 code 1; queued frames are dropped;
 * - a graceful server close (disconnect(true)) delivers what is queued, the 41s, then "1";
 * - the client's own "1" answers a held GET with a noop "6".
 * Every GET here is sent by hand, so whether one is held is the test's choice.
 */
import { runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import {
  connectOk,
  engineUrl,
  expectEngineError,
  hostOf,
  hostStubFor,
  onHost,
  PollingSession,
  sleep,
  WebSocketSession,
} from "./engine-client";

const PING_INTERVAL = 300; // vitest.config.ts
const GRID_STEP = PING_INTERVAL / 4;
const UNKNOWN = '{"code":1,"message":"Session ID unknown"}';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const dispose of cleanup.splice(0)) await dispose();
});

async function get(sid: string): Promise<{ status: number; body: string }> {
  const response = await SELF.fetch(engineUrl({ EIO: "4", transport: "polling", sid }));
  return { status: response.status, body: await response.text() };
}

async function post(sid: string, body: string): Promise<Response> {
  return SELF.fetch(engineUrl({ EIO: "4", transport: "polling", sid }), { method: "POST", body });
}

/** Waits (bounded) until the host sees `check` hold on its storage and WebSockets. */
async function untilHost(sid: string, check: (state: DurableObjectState) => boolean, what: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (await runInDurableObject(hostStubFor(sid), (_instance, state) => check(state))) return;
    await sleep(20);
  }
  throw new Error(`host never had ${what}`);
}

const queued = (sid: string, frames: number) => (state: DurableObjectState) =>
  state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE sid = ?", sid).one().n >= frames;
const closedOrGone = (sid: string) => (state: DurableObjectState) =>
  state.storage.sql.exec<{ closing: number }>("SELECT closing FROM sessions WHERE sid = ?", sid).toArray()[0]?.closing !== 0;

/** A polling session connected to "/" (the "40{…}" already read), with no GET outstanding. */
async function connected(): Promise<string> {
  const session = await PollingSession.handshake();
  cleanup.push(() => post(session.sid, "1").then((r) => r.arrayBuffer()));
  expect(await (await post(session.sid, "40")).text()).toBe("ok");
  const { body } = await get(session.sid);
  // The CONNECT reply, then the echo app's "welcome".
  const [reply, welcome] = body.split("\x1e");
  expect(reply).toMatch(/^40\{"sid":"[^"]+"\}$/);
  expect(welcome).toMatch(/^42\["welcome"/);
  return session.sid;
}

/**
 * Runs a scenario that needs a GET held when something happens. On a loaded machine a ping may
 * answer that GET first, or the GET may reach the host late (the scenario then returns "again");
 * the scenario is run again on a fresh session.
 */
async function withHeldGet(scenario: () => Promise<"done" | "again">): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) if ((await scenario()) === "done") return;
  throw new Error("the GET was never held when the scenario needed it");
}

/** The GET was answered by a ping before the event, or reached the host after it. */
const missedHold = (answer: { status: number; body: string }) => answer.body === "2" || answer.status === 400;

/** The packets of a payload other than pings (which may come at any time). */
const withoutPings = (body: string) => body.split("\x1e").filter((packet) => packet !== "2");

/** Waits for the session's first ping and answers it: the next one is a whole interval away. */
async function afterPing(sid: string): Promise<void> {
  expect(withoutPings((await get(sid)).body)).toEqual([]);
  expect(await (await post(sid, "3")).text()).toBe("ok");
}

/** The packets of a payload other than pings and noops. */
const withoutNoops = (body: string) => withoutPings(body).filter((packet) => packet !== "6");

/** Starts a GET and waits until the host holds it. */
async function heldGet(sid: string): Promise<{ pending: Promise<{ status: number; body: string }> }> {
  const pending = get(sid);
  // The host holds a GET as soon as it arrives; a scenario whose GET was not held in time
  // (answered 400) or was answered by a ping first is run again (withHeldGet).
  await sleep(30);
  return { pending }; // wrapped: an async function returning the promise itself would wait for it
}

describe("fault closes forget the session at once", () => {
  it("undecodable POST, no GET held: 400 code 3, then the next GET is 400 code 1 (not 200 '1')", async () => {
    const sid = await connected();
    await expectEngineError(await post(sid, "9nope"), 400, 3, "Bad request");
    expect(await get(sid)).toEqual({ status: 400, body: UNKNOWN });
  });

  it("undecodable POST with a GET held: the GET gets exactly '1', then 400 code 1", async () => {
    await withHeldGet(async () => {
      const sid = await connected();
      await afterPing(sid);
      const { pending } = await heldGet(sid);
      await expectEngineError(await post(sid, "9nope"), 400, 3, "Bad request");
      const answer = await pending;
      if (missedHold(answer)) return "again";
      expect(answer).toEqual({ status: 200, body: "1" });
      expect(await get(sid)).toEqual({ status: 400, body: UNKNOWN });
      return "done";
    });
  }, 20_000);

  it("queued frames are dropped with the session", async () => {
    const sid = await connected();
    expect(await (await post(sid, '421["echo","queued"]')).text()).toBe("ok");
    await untilHost(sid, queued(sid, 1), "the ack queued");
    await expectEngineError(await post(sid, "9nope"), 400, 3, "Bad request");
    expect(await get(sid)).toEqual({ status: 400, body: UNKNOWN });
  });

  it("ping timeout, no GET held: the next GET is 400 code 1 (no ping, no '1')", async () => {
    const sid = await connected();
    // Nobody polls, so nobody pongs: the host times the session out.
    await untilHost(sid, closedOrGone(sid), "the session closed");
    expect(await get(sid)).toEqual({ status: 400, body: UNKNOWN });
  });

  it("ping timeout with a GET held: that GET gets exactly '1'", async () => {
    const sid = await connected();
    const first = await get(sid); // held until the first ping
    expect(first).toEqual({ status: 200, body: "2" });
    const { pending } = await heldGet(sid); // no pong is ever sent
    expect(await pending).toEqual({ status: 200, body: "1" });
    expect(await get(sid)).toEqual({ status: 400, body: UNKNOWN });
  });
});

describe("graceful server closes deliver what is queued, the 41s, then 1", () => {
  it("disconnect(true), no GET held: the next GET carries the queue, 41 per namespace and 1", async () => {
    const sid = await connected();
    expect(await (await post(sid, '40/admin,{"token":"let-me-in"}')).text()).toBe("ok");
    expect((await get(sid)).body).toMatch(/^40\/admin,\{"sid":"[^"]+"\}/);
    expect(await (await post(sid, '421["echo","queued"]')).text()).toBe("ok");
    await untilHost(sid, queued(sid, 1), "the ack queued");
    expect(await (await post(sid, '42["disconnect-me",true]')).text()).toBe("ok");
    await untilHost(sid, closedOrGone(sid), "the session closing");
    const answer = await get(sid);
    expect(answer.status).toBe(200);
    expect(withoutPings(answer.body)).toEqual(['431["queued"]', "41", "41/admin,", "1"]);
    expect(await get(sid)).toEqual({ status: 400, body: UNKNOWN });
  });

  it("disconnect(true) with a GET held: that GET gets the 41 at once, the next GET the 1", async () => {
    await withHeldGet(async () => {
      const sid = await connected();
      await afterPing(sid);
      const { pending } = await heldGet(sid);
      expect(await (await post(sid, '42["disconnect-me",true]')).text()).toBe("ok");
      const answer = await pending;
      if (missedHold(answer)) return "again";
      // As engine.io: the 41 is written to the GET that is waiting; the close follows the queue.
      expect(answer).toEqual({ status: 200, body: "41" });
      expect(withoutNoops((await get(sid)).body)).toEqual(["1"]);
      expect(await get(sid)).toEqual({ status: 400, body: UNKNOWN });
      return "done";
    });
  }, 20_000);
});

describe("the client's own close (1 in a POST)", () => {
  it("with a GET held: that GET gets a noop 6 (not 1), then the sid is unknown", async () => {
    await withHeldGet(async () => {
      const sid = await connected();
      await afterPing(sid);
      const { pending } = await heldGet(sid);
      expect(await (await post(sid, "1")).text()).toBe("ok");
      const answer = await pending;
      if (missedHold(answer)) return "again";
      expect(answer).toEqual({ status: 200, body: "6" });
      expect(await get(sid)).toEqual({ status: 400, body: UNKNOWN });
      return "done";
    });
  }, 20_000);

  it("with no GET held: the next GET is 400 code 1", async () => {
    const sid = await connected();
    expect(await (await post(sid, "1")).text()).toBe("ok");
    expect(await get(sid)).toEqual({ status: 400, body: UNKNOWN });
  });
});

describe("first ping: pingInterval after the handshake, whatever the host's other sessions", () => {
  /** Opens a session (on `host` if given), then measures when its first "2" arrives after the handshake was sent. */
  async function firstPingDelay(transport: "polling" | "websocket", host?: string): Promise<{ host: string; delay: number }> {
    const sent = new Map<string, number>();
    const open = async (): Promise<PollingSession | WebSocketSession> => {
      const at = Date.now();
      const conn = transport === "websocket" ? await WebSocketSession.handshake() : await PollingSession.handshake();
      sent.set(conn.sid, at);
      cleanup.push(() => (conn instanceof WebSocketSession ? conn.close() : post(conn.sid, "1").then(() => conn.stop())));
      return conn;
    };
    const conn = host ? await onHost(host, open, () => undefined) : await open();
    // A polling session starts polling only now: a ping queued meanwhile is answered at once.
    if (conn instanceof PollingSession) conn.start();
    await conn.inbox.take((f) => f === "2", 3000);
    return { host: hostOf(conn.sid), delay: Date.now() - (sent.get(conn.sid) ?? 0) };
  }

  for (const transport of ["polling", "websocket"] as const) {
    it(`${transport}: sessions opened one after another on one host each get their first ping ≥ pingInterval after their handshake`, async () => {
      const first = await firstPingDelay(transport);
      const delays = [first.delay];
      for (let i = 0; i < 3; i++) {
        await sleep(GRID_STEP * 1.3); // staggered over the host's ping schedule
        delays.push((await firstPingDelay(transport, first.host)).delay);
      }
      for (const delay of delays) {
        expect(delay).toBeGreaterThanOrEqual(PING_INTERVAL);
        // At most one grid step late, plus a loose bound for a loaded machine.
        expect(delay).toBeLessThan(PING_INTERVAL + GRID_STEP + 1000);
      }
    }, 20_000);
  }

  it("a host with many sessions still wakes at most 4 times per pingInterval for heartbeats", async () => {
    const sessions: WebSocketSession[] = [];
    const open = async () => {
      const ws = await WebSocketSession.handshake();
      cleanup.push(() => ws.close());
      return ws;
    };
    sessions.push(await open());
    await connectOk(sessions[0]);
    const host = hostOf(sessions[0].sid);
    for (let i = 0; i < 7; i++) {
      await sleep(GRID_STEP / 2);
      const session = await onHost(host, open, (c) => c.close());
      await connectOk(session); // before CONNECT_TIMEOUT (1 s)
      sessions.push(session);
    }
    // The host's own count of its alarms (in the alarm record since host-meta.ts, flushed by the stats RPC).
    const alarms = async () => (await hostStubFor(sessions[0].sid).stats()).alarms;
    const before = await alarms();
    const started = Date.now();
    await sleep(PING_INTERVAL * 4);
    const after = await alarms();
    const intervals = (Date.now() - started) / PING_INTERVAL;
    // 8 sessions pinged every interval, each answering: the wakes stay on the grid.
    expect(after - before).toBeGreaterThan(0);
    expect(after - before).toBeLessThanOrEqual(Math.ceil(intervals * 4) + 1);
    for (const session of sessions) expect(session.inbox.ended).toBe(false);
  }, 20_000);
});
