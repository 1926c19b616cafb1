/**
 * Heartbeat and hibernation with real socket.io-client: pings at the configured interval on
 * both transports, dead peers closed by the server, and idle WebSocket hosts hibernating
 * without the client noticing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import WebSocket from "ws";
import { connect, connectOnOtherHost, hostOf, nextEvent, nextEventArgs, sleep } from "../helpers/clients";
import { startService, type RunningService } from "../helpers/service";

const PING_INTERVAL = 1000;
const PING_TIMEOUT = 600;
const API_KEY = "heartbeat-test-api-key-0123456789";
/** Pings and pong checks fall on a grid of pingInterval / 4; plus a loose bound for a loaded machine. */
const slack = (interval: number) => interval / 4 + 2000;
const CONNECT_TIMEOUT = 1500;

interface HostStats {
  host: string;
  instanceId: string;
  constructions: number;
  wakes: number;
  alarms: number;
  webSockets: number;
}

async function hostStats(service: RunningService, host: string): Promise<HostStats> {
  const colo = host.split(":")[0];
  const all = (await (await fetch(`${service.url}/_edgeio/hosts?colo=${colo}`)).json()) as HostStats[];
  const stats = all.find((entry) => entry.host === host);
  if (!stats) throw new Error(`no stats for ${host}`);
  return stats;
}

/** How many sockets an emit to `room` reaches, across hosts (HTTP API). */
async function roomSockets(service: RunningService, room: string): Promise<number> {
  const response = await fetch(`${service.url}/v1/emit`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ rooms: [room], event: "probe", args: [] }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { sockets: number }).sockets;
}

/**
 * A client in a room stops answering pings: the server closes it within pingInterval +
 * pingTimeout (+ slack) of its last pong, and it is gone from the room; a live client stays.
 */
async function deadPeerIsDropped(service: RunningService, transport: string, interval: number, timeout: number): Promise<void> {
  const room = `dead-peer-${transport}-${Math.random()}`;
  const socket = await connect(service.url, { transports: [transport] });
  const alive = await connect(service.url, { transports: [transport] });
  let aliveGone = "";
  alive.on("disconnect", (why) => {
    aliveGone = why;
  });
  await socket.timeout(3000).emitWithAck("join", room);
  expect(await roomSockets(service, room)).toBe(1);
  stopPonging(socket);
  const started = Date.now();
  const [reason] = await nextEventArgs(socket, "disconnect", interval + timeout + slack(interval) + 3000);
  // The server closed it: "transport close" (a held GET got "1", or the WebSocket closed) or,
  // over polling with no GET held, "transport error" (its next request got 400 code 1, as from
  // engine.io). The client's own timer would say "ping timeout".
  expect(["transport close", "transport error"]).toContain(reason);
  expect(Date.now() - started).toBeLessThanOrEqual(interval + timeout + slack(interval));
  expect(await roomSockets(service, room)).toBe(0);
  expect(aliveGone).toBe("");
  expect(alive.connected).toBe(true);
  expect(await alive.timeout(3000).emitWithAck("echo", "alive")).toBe("alive");
  socket.close();
  alive.close();
}

/** A raw Engine.IO WebSocket (no socket.io-client): every text frame, and when the close frame and the close event came. */
async function rawWebSocket(service: RunningService, answerPings = false) {
  const ws = new WebSocket(`${service.url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
  const frames: string[] = [];
  const seen = { closeFrameAt: 0, closeEventAt: 0, code: 0 };
  ws.on("message", (data) => {
    frames.push(data.toString());
    if (answerPings && data.toString() === "2" && ws.readyState === WebSocket.OPEN) ws.send("3");
  });
  // ws reports the peer's close frame as "closing" (readyState CLOSING) before the TCP close.
  const watch = setInterval(() => {
    if (ws.readyState === WebSocket.CLOSING && seen.closeFrameAt === 0) seen.closeFrameAt = Date.now();
  }, 5);
  ws.on("close", (code) => {
    clearInterval(watch);
    seen.closeEventAt = Date.now();
    if (seen.closeFrameAt === 0) seen.closeFrameAt = seen.closeEventAt;
    seen.code = code;
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return {
    ws,
    frames,
    seen,
    stop: () => {
      clearInterval(watch);
      ws.terminate();
    },
  };
}

/** Waits (bounded) until `condition` holds: for eventually-true conditions, never for timing. */
async function until(condition: () => boolean | Promise<boolean>, what: string, boundMs = 5000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${boundMs} ms`);
    await sleep(20);
  }
}

/**
 * A raw WebSocket that never sends a frame, left until the host closes it (connect timeout or
 * ping timeout): the close frame must come by `deadline` ms, and the session be gone after it.
 * Returns how long the close event took after the close frame (null: not within 1 s).
 */
async function silentClientClosedByHost(service: RunningService, deadline: number): Promise<number | null> {
  const raw = await rawWebSocket(service);
  const opened = Date.now();
  await until(() => raw.seen.closeFrameAt !== 0, "the host's close frame", deadline + 3000);
  expect(raw.seen.closeFrameAt - opened).toBeLessThanOrEqual(deadline);
  const sid = (JSON.parse(raw.frames[0].slice(1)) as { sid: string }).sid;
  const gone = await fetch(`${service.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
  expect(gone.status).toBe(400);
  await until(() => raw.seen.closeEventAt !== 0, "", 1000).catch(() => undefined);
  raw.stop();
  return raw.seen.closeEventAt === 0 ? null : raw.seen.closeEventAt - raw.seen.closeFrameAt;
}

/** Stops a socket.io-client from answering pings, as a frozen or vanished peer would. */
function stopPonging(socket: Socket): void {
  const engine = socket.io.engine as unknown as { _sendPacket: (type: string, ...rest: unknown[]) => void };
  const send = engine._sendPacket.bind(engine);
  engine._sendPacket = (type, ...rest) => {
    if (type !== "pong") send(type, ...rest);
  };
}

describe("heartbeat", () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startService({ vars: { PING_INTERVAL, PING_TIMEOUT, CONNECT_TIMEOUT, API_KEYS: API_KEY } });
  });
  afterAll(() => service?.stop());

  it.each([["polling"], ["websocket"]])("pings a %s client at the configured interval, and a live client stays", async (transport) => {
    const socket = await connect(service.url, { transports: [transport] });
    const handshake = socket.io.engine as unknown as { _pingInterval: number; _pingTimeout: number };
    expect(handshake._pingInterval).toBe(PING_INTERVAL);
    expect(handshake._pingTimeout).toBe(PING_TIMEOUT);
    let pings = 0;
    socket.io.engine.on("ping", () => pings++);
    await sleep(PING_INTERVAL * 4 + 300);
    // Four intervals: each host pings on its own tick, so 3 to 5 pings depending on phase.
    expect(pings).toBeGreaterThanOrEqual(3);
    expect(pings).toBeLessThanOrEqual(5);
    expect(socket.connected).toBe(true);
    expect(await socket.timeout(3000).emitWithAck("echo", "alive")).toBe("alive");
    socket.close();
  });

  it("answers a WebSocket client's pongs without waking the host", async () => {
    const socket = await connect(service.url, { transports: ["websocket"] });
    let pings = 0;
    socket.io.engine.on("ping", () => pings++);
    const host = hostOf(socket);
    const before = await hostStats(service, host);
    await sleep(PING_INTERVAL * 4 + 300);
    const after = await hostStats(service, host);
    expect(pings).toBeGreaterThanOrEqual(3);
    expect(after.alarms).toBeGreaterThan(before.alarms);
    // Every wake that was not an alarm is a request or a WebSocket message: none came,
    // although the client answered each ping with a pong.
    expect(after.wakes - after.alarms).toBe(before.wakes - before.alarms);
    expect(await socket.timeout(3000).emitWithAck("echo", "alive")).toBe("alive");
    socket.close();
  });

  it.each([["polling"], ["websocket"]])("closes a %s client that stops answering pings, and it leaves its rooms", async (transport) => {
    await deadPeerIsDropped(service, transport, PING_INTERVAL, PING_TIMEOUT);
  });

  it("a raw WebSocket that never sends a frame gets the host's close frame at the connect timeout", async () => {
    await silentClientClosedByHost(service, CONNECT_TIMEOUT + slack(PING_INTERVAL));
  });

  // Local runtime bug (docs/protocol-notes.md): workerd does not end the TCP connection of a
  // hibernatable WebSocket closed by its object while the peer has never sent a frame, until the
  // object is evicted. Expected to fail while the bug lasts; remove `.fails` once it passes.
  it.fails("…and its close event follows within 1 s of the close frame (fails: workerd bug)", async () => {
    expect(await silentClientClosedByHost(service, CONNECT_TIMEOUT + slack(PING_INTERVAL))).not.toBeNull();
  });
});

describe("heartbeat with PING_TIMEOUT longer than PING_INTERVAL", () => {
  // A common Socket.IO setting (25 s / 60 s in production): each ping round is checked on its
  // own, so newer rounds do not push an unanswered one's deadline out for ever. Pongs here are
  // ordinary messages (PONG_AUTO_RESPONSE=false), so this also covers pongs the host handles itself.
  const INTERVAL = 400;
  const TIMEOUT = 1000;
  let service: RunningService;
  beforeAll(async () => {
    service = await startService({
      vars: { PING_INTERVAL: INTERVAL, PING_TIMEOUT: TIMEOUT, API_KEYS: API_KEY, PONG_AUTO_RESPONSE: "false" },
    });
  });
  afterAll(() => service?.stop());

  it.each([["polling"], ["websocket"]])(
    "still closes a %s client that stops answering pings, and it leaves its rooms",
    async (transport) => {
      await deadPeerIsDropped(service, transport, INTERVAL, TIMEOUT);
    },
  );

  it("a raw WebSocket that never sends a frame gets the host's close frame at the ping timeout", async () => {
    // CONNECT_TIMEOUT is the default (45 s) here: the ping timeout comes first.
    await silentClientClosedByHost(service, INTERVAL + TIMEOUT + slack(INTERVAL));
  });

  it("PONG_AUTO_RESPONSE=false: a pong is an ordinary message (no 6 after it), at the cost of a wake", async () => {
    const raw = await rawWebSocket(service, true);
    raw.ws.send("40");
    await until(() => raw.frames.some((f) => f.startsWith("40{")), "the CONNECT reply");
    const sid = (JSON.parse(raw.frames[0].slice(1)) as { sid: string }).sid;
    const host = Buffer.from(sid.split(".")[0], "base64url").toString();
    await until(() => raw.frames.includes("2"), "a ping", 5000);
    // Each ping is answered; each pong must now reach the host as a message.
    const before = await hostStats(service, host);
    await until(async () => {
      const after = await hostStats(service, host);
      // The pong reached the host as a message (stats() is an RPC and counts no wake).
      return after.wakes - after.alarms > before.wakes - before.alarms;
    }, "a wake for the pong");
    await sleep(300);
    expect(raw.frames.filter((f) => f === "6")).toEqual([]);
    expect(raw.ws.readyState).toBe(WebSocket.OPEN);
    raw.stop();
  });
});

describe("hibernation", () => {
  let service: RunningService;
  /**
   * A host reports its load to the cluster stats from its alarm at most STATS_REPORT_MS (500 ms
   * in the echo app) after a change: that one wake follows the last change, then nothing does.
   */
  const statsReportSent = () => sleep(2_000);

  /**
   * The host's stats once the post-change report has gone, and again after a quiet spell long
   * enough for workerd to evict it (~10 s idle). Asking for stats wakes the host, so look only
   * after each spell.
   */
  async function idleUntilEvicted(host: string): Promise<{ before: HostStats; after: HostStats }> {
    await statsReportSent();
    const before = await hostStats(service, host);
    let after = before;
    for (let i = 0; i < 3 && after.instanceId === before.instanceId; i++) {
      await sleep(12_000);
      after = await hostStats(service, host);
    }
    return { before, after };
  }
  beforeAll(async () => {
    // No pings during the test: only idleness decides whether the host hibernates.
    // Presence leases are checked rarely here: a lease check is an RPC that wakes the host.
    service = await startService({ vars: { PING_INTERVAL: 120_000, PING_TIMEOUT: 60_000, PRESENCE_LEASE_MS: 600_000 } });
  });
  afterAll(() => service?.stop());

  it("lets an idle WebSocket host hibernate, and the client notices nothing", async () => {
    const idle = await connect(service.url, { transports: ["websocket"] });
    await idle.timeout(3000).emitWithAck("join", "hibernation-room");
    const host = hostOf(idle);
    let disconnected = false;
    idle.on("disconnect", () => (disconnected = true));
    const { before, after } = await idleUntilEvicted(host);
    expect(after.instanceId).not.toBe(before.instanceId);
    expect(after.constructions).toBeGreaterThan(before.constructions);
    // Nothing woke it in between: no message, no alarm.
    expect(after.wakes).toBe(before.wakes);
    expect(after.webSockets).toBe(1);

    // A broadcast from another host reaches the hibernated socket, and it still talks.
    const sender = await connectOnOtherHost(service.url, [host], { transports: ["websocket"] });
    const got = nextEvent(idle, "news");
    sender.emit("io-to-room", "hibernation-room", "news", "wake up");
    expect(await got).toBe("wake up");
    expect(await idle.timeout(3000).emitWithAck("echo", "still here")).toBe("still here");
    expect(disconnected).toBe(false);
    idle.close();
    sender.close();
  }, 90_000);

  it("lets an idle long-polling host hibernate while the client's GET is held, and the client notices nothing", async () => {
    // The Worker holds the GET on a hibernatable channel it opened itself (no loopback
    // invocation): the host's end costs it nothing while it waits, so it can be evicted.
    const idle = await connect(service.url, { transports: ["polling"] });
    expect(await idle.timeout(3000).emitWithAck("echo", "before")).toBe("before");
    const host = hostOf(idle);
    let disconnected = false;
    idle.on("disconnect", () => (disconnected = true));
    const { before, after } = await idleUntilEvicted(host);
    expect(after.instanceId).not.toBe(before.instanceId);
    expect(after.wakes).toBe(before.wakes);
    // The held GET's channel survived: the next instance answers on it.
    expect(await idle.timeout(3000).emitWithAck("echo", "after")).toBe("after");
    expect(disconnected).toBe(false);
    idle.close();
  }, 90_000);
});
