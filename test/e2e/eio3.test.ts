/**
 * socket.io-client 2.x (Engine.IO v3, Socket.IO v4 protocol) against the service with
 * ALLOW_EIO3=true, in each transport mode, side by side with socket.io-client 4.x; and the
 * default (ALLOW_EIO3 off), which refuses it with 400 code 5 as Socket.IO does.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { connectV2, emitV2, hostOfV2, nextV2, type SocketV2, upgradedV2 } from "../helpers/client-v2";
import { connect, nextEventArgs, sleep } from "../helpers/clients";
import { startService, type RunningService } from "../helpers/service";

const PING_INTERVAL = 1000;
const PING_TIMEOUT = 2000; // generous: the 4.x clients here close themselves when a ping is late on a loaded machine

let service: RunningService;
const open: Array<SocketV2 | Socket> = [];

beforeAll(async () => {
  service = await startService({ vars: { ALLOW_EIO3: "true", PING_INTERVAL, PING_TIMEOUT } });
});
afterAll(async () => {
  for (const socket of open) socket.close();
  await service?.stop();
});

function track<T extends SocketV2 | Socket>(socket: T): T {
  open.push(socket);
  return socket;
}

const MODES = [
  { name: "polling", options: { transports: ["polling"] }, transport: "polling" },
  { name: "websocket", options: { transports: ["websocket"] }, transport: "websocket" },
  { name: "polling+upgrade", options: {}, transport: "websocket" },
];

describe.each(MODES)("socket.io-client 2.x, $name", ({ name, options, transport }) => {
  it("connects to / without a CONNECT of its own, on the v3 host pool, with its query as auth", async () => {
    const socket = track(await connectV2(service.url, { ...options, query: { token: "q1" } }));
    if (name === "polling+upgrade") await upgradedV2(socket);
    expect(socket.io.engine.transport.name).toBe(transport);
    expect(hostOfV2(socket)).toMatch(/^eio3-[a-z0-9-]+:\d+$/);
    expect(await emitV2(socket, "transport")).toEqual([transport]);
    // The echo app's /admin middleware reads handshake.auth.token: for 2.x, its CONNECT query.
    const admin = track(await connectV2(`${service.url}/admin`, { ...options, query: { token: "let-me-in" } }));
    const [who] = (await emitV2(admin, "whoami")) as [{ role: string; auth: Record<string, string> }];
    expect(who).toMatchObject({ role: "admin", auth: { token: "let-me-in" } });
    socket.close();
    admin.close();
  });

  it("gets a middleware's error in the v4 shape (err.data) and Invalid namespace", async () => {
    await expect(connectV2(`${service.url}/admin`, { ...options, query: { token: "wrong" } })).rejects.toEqual({ reason: "bad_token" });
    await expect(connectV2(`${service.url}/nowhere`, options)).rejects.toEqual({ message: "Invalid namespace" });
  });

  it("emits JSON and binary with acks both ways", async () => {
    const socket = track(await connectV2(service.url, options));
    const reply = await emitV2(socket, "echo", { text: "héllo 😀" }, Buffer.from([1, 2, 255]), [Buffer.from([9])]);
    expect(reply[0]).toEqual({ text: "héllo 😀" });
    expect([...(reply[1] as Buffer)]).toEqual([1, 2, 255]);
    expect([...((reply[2] as Buffer[])[0] as Buffer)]).toEqual([9]);
    // Server → client ack: "ask" makes the server emitWithAck("question") and return our answer.
    socket.on("question", ((question: string, ack: (answer: unknown) => void) =>
      ack({ heard: question, bytes: Buffer.from([7]) })) as never);
    const [answer] = (await emitV2(socket, "ask", "why?")) as [{ answer: { heard: string; bytes: Buffer } }];
    expect(answer.answer.heard).toBe("why?");
    expect([...answer.answer.bytes]).toEqual([7]);
    socket.close();
  });

  it("shares rooms with a 4.x client, both ways, binary included", async () => {
    const room = `mixed-${name}`;
    const old = track(await connectV2(service.url, options));
    const modern = track(await connect(service.url));
    await emitV2(old, "join", room);
    await modern.timeout(5000).emitWithAck("join", room);

    const toOld = nextV2(old, "news", 10_000);
    modern.emit("to-room", room, "news", "from 4.x", Buffer.from([4, 4]));
    const [text, bytes] = await toOld;
    expect(text).toBe("from 4.x");
    expect([...(bytes as Buffer)]).toEqual([4, 4]);

    const toModern = nextEventArgs(modern, "news", 10_000);
    old.emit("to-room", room, "news", "from 2.x", Buffer.from([2, 2]));
    const [text2, bytes2] = await toModern;
    expect(text2).toBe("from 2.x");
    expect([...(bytes2 as Buffer)]).toEqual([2, 2]);
    old.close();
    modern.close();
  });

  it("stays connected past pingTimeout on its own pings; pings do not wake a WebSocket host", async () => {
    const socket = track(await connectV2(service.url, options));
    if (name === "polling+upgrade") await upgradedV2(socket);
    const host = hostOfV2(socket);
    let pongs = 0;
    socket.io.engine.on("pong", () => pongs++);
    let disconnected = false;
    socket.on("disconnect", () => {
      disconnected = true;
    });
    const before = await hostStats(host);
    await sleep(1.5 * (PING_INTERVAL + PING_TIMEOUT));
    const after = await hostStats(host);
    expect(disconnected).toBe(false);
    expect(pongs).toBeGreaterThanOrEqual(2);
    expect(await emitV2(socket, "transport")).toEqual([transport]);
    // On a WebSocket every "2" is answered "3" by the runtime: the host woke only for its alarms.
    if (transport === "websocket") expect(after.wakes - after.alarms).toBe(before.wakes - before.alarms);
    socket.close();
  });

  it("disconnects from the server side and from the client side", async () => {
    const socket = track(await connectV2(service.url, options));
    const closed = nextV2(socket, "disconnect");
    socket.emit("disconnect-me", false);
    expect(await closed).toEqual(["io server disconnect"]);
    socket.close();
  });
});

describe("Engine.IO v3 on the wire", () => {
  it("frames the handshake as a v3 payload and connects / implicitly", async () => {
    const response = await fetch(`${service.url}/socket.io/?EIO=3&transport=polling&b64=1`);
    const body = await response.text();
    const match = /^(\d+):(0\{.*\})$/.exec(body);
    expect(match, body).not.toBeNull();
    expect(Number(match![1])).toBe(match![2].length);
    const { sid } = JSON.parse(match![2].slice(1)) as { sid: string };
    // The implicit CONNECT of "/", then the echo app's welcome, each length-prefixed.
    expect(await pollUntil(sid, "welcome")).toMatch(/^2:40(\d+):42\["welcome",/);
    const ping = await fetch(`${service.url}/socket.io/?EIO=3&transport=polling&sid=${encodeURIComponent(sid)}`, {
      method: "POST",
      body: "1:2",
    });
    expect(await ping.text()).toBe("ok");
    expect(await poll(sid)).toBe("1:3");
  });

  it("closes a polling session that stops pinging (ping timeout): its held GET gets 1:1, then the sid is gone", async () => {
    const sid = await v3Handshake();
    expect(await pollUntil(sid, "welcome")).toMatch(/^2:40/);
    // No ping from here on: within pingInterval + pingTimeout (+ one check interval) the held GET ends.
    expect(await poll(sid)).toBe("1:1");
    const after = await fetch(`${service.url}/socket.io/?EIO=3&transport=polling&sid=${encodeURIComponent(sid)}`);
    expect(after.status).toBe(400);
  });

  it("closes a WebSocket session that stops pinging, and keeps one that pings with bare 2s", async () => {
    const url = `${service.url.replace("http", "ws")}/socket.io/?EIO=3&transport=websocket`;
    const silent = new WebSocket(url);
    const pinging = new WebSocket(url);
    // One frame (a noop) first: a socket that never sent one does not finish a host's close under
    // wrangler dev (issue 13 item 6, the close-heartbeat work), which is not what this test is about.
    silent.addEventListener("open", () => silent.send("6"));
    const seen: string[] = [];
    pinging.addEventListener("message", (event) => seen.push(String(event.data)));
    const timer = setInterval(() => pinging.readyState === WebSocket.OPEN && pinging.send("2"), PING_INTERVAL);
    const closed = await new Promise<number>((resolve) => silent.addEventListener("close", (event) => resolve(event.code)));
    clearInterval(timer);
    expect(closed).toBe(1000);
    expect(pinging.readyState).toBe(WebSocket.OPEN);
    expect(seen[0]).toMatch(/^0\{/);
    expect(seen).toContain("40");
    const rest = seen.slice(1).filter((frame) => frame !== "40" && !frame.startsWith('42["welcome"'));
    expect(rest.length).toBeGreaterThanOrEqual(1);
    expect(rest.every((frame) => frame === "3")).toBe(true);
    pinging.close();
  });
});

async function v3Handshake(): Promise<string> {
  const body = await (await fetch(`${service.url}/socket.io/?EIO=3&transport=polling&b64=1`)).text();
  return (JSON.parse(body.slice(body.indexOf(":") + 2)) as { sid: string }).sid;
}

/** Polls until the payloads so far contain `needle` (frames may arrive over several GETs). */
async function pollUntil(sid: string, needle: string): Promise<string> {
  let payloads = "";
  for (let i = 0; i < 5 && !payloads.includes(needle); i++) payloads += await poll(sid);
  return payloads;
}

async function poll(sid: string): Promise<string> {
  const response = await fetch(`${service.url}/socket.io/?EIO=3&transport=polling&sid=${encodeURIComponent(sid)}`, {
    signal: AbortSignal.timeout(10_000),
  });
  return response.text();
}

describe("ALLOW_EIO3 off (the default)", () => {
  let off: RunningService;
  beforeAll(async () => {
    off = await startService();
  });
  afterAll(async () => {
    await off?.stop();
  });

  it("refuses socket.io-client 2.x with 400 code 5", async () => {
    const response = await fetch(`${off.url}/socket.io/?EIO=3&transport=polling`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ code: 5, message: "Unsupported protocol version" });
    const error = (await connectV2(off.url, { transports: ["polling"] }).catch((e: unknown) => e)) as Error & { description?: number };
    expect(error.message).toBe("xhr poll error");
    expect(error.description).toBe(400);
  });
});

interface HostStats {
  host: string;
  wakes: number;
  alarms: number;
}

async function hostStats(host: string): Promise<HostStats> {
  const colo = host.split(":")[0];
  const all = (await (await fetch(`${service.url}/_edgeio/hosts?colo=${colo}`)).json()) as HostStats[];
  const stats = all.find((entry) => entry.host === host);
  if (!stats) throw new Error(`no stats for ${host}`);
  return stats;
}
