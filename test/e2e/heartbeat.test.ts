/**
 * Heartbeat and hibernation with real socket.io-client: pings at the configured interval on
 * both transports, dead peers closed by the server, and idle WebSocket hosts hibernating
 * without the client noticing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { connect, connectOnOtherHost, hostOf, nextEvent, nextEventArgs, sleep } from "../helpers/clients";
import { startService, type RunningService } from "../helpers/service";

const PING_INTERVAL = 1000;
const PING_TIMEOUT = 600;

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
    service = await startService({ vars: { PING_INTERVAL, PING_TIMEOUT } });
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

  it.each([["polling"], ["websocket"]])("closes a %s client that stops answering pings", async (transport) => {
    const socket = await connect(service.url, { transports: [transport] });
    stopPonging(socket);
    const started = Date.now();
    const [reason] = await nextEventArgs(socket, "disconnect", PING_INTERVAL * 2 + PING_TIMEOUT + 3000);
    // The server closed it ("transport close"); the client's own timer would say "ping timeout".
    expect(reason).toBe("transport close");
    expect(Date.now() - started).toBeGreaterThanOrEqual(PING_TIMEOUT);
    socket.close();
  });
});

describe("heartbeat with PING_TIMEOUT longer than PING_INTERVAL", () => {
  // A common Socket.IO setting (25 s / 60 s in production): each ping round is checked on its
  // own, so newer rounds do not push an unanswered one's deadline out for ever.
  const INTERVAL = 400;
  const TIMEOUT = 1000;
  let service: RunningService;
  beforeAll(async () => {
    service = await startService({ vars: { PING_INTERVAL: INTERVAL, PING_TIMEOUT: TIMEOUT } });
  });
  afterAll(() => service?.stop());

  it.each([["polling"], ["websocket"]])("still closes a %s client that stops answering pings", async (transport) => {
    const socket = await connect(service.url, { transports: [transport] });
    const alive = await connect(service.url, { transports: [transport] });
    stopPonging(socket);
    const [reason] = await nextEventArgs(socket, "disconnect", INTERVAL * 2 + TIMEOUT + 5000);
    expect(reason).toBe("transport close");
    // A client that answers stays connected through the same rounds.
    expect(alive.connected).toBe(true);
    expect(await alive.timeout(3000).emitWithAck("echo", "alive")).toBe("alive");
    socket.close();
    alive.close();
  });
});

describe("hibernation", () => {
  let service: RunningService;
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
    const before = await hostStats(service, host);
    let disconnected = false;
    idle.on("disconnect", () => (disconnected = true));

    // workerd evicts an object that only holds hibernatable WebSockets after ~10 s idle.
    // Asking for stats wakes the host, so look only after a long quiet spell.
    let after = before;
    for (let i = 0; i < 3 && after.instanceId === before.instanceId; i++) {
      await sleep(12_000);
      after = await hostStats(service, host);
    }
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
    const before = await hostStats(service, host);
    let disconnected = false;
    idle.on("disconnect", () => (disconnected = true));
    let after = before;
    for (let i = 0; i < 3 && after.instanceId === before.instanceId; i++) {
      await sleep(12_000);
      after = await hostStats(service, host);
    }
    expect(after.instanceId).not.toBe(before.instanceId);
    expect(after.wakes).toBe(before.wakes);
    // The held GET's channel survived: the next instance answers on it.
    expect(await idle.timeout(3000).emitWithAck("echo", "after")).toBe("after");
    expect(disconnected).toBe(false);
    idle.close();
  }, 90_000);
});
