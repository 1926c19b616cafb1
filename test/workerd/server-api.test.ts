/**
 * The rest of Socket.IO's server API, driven by the real socket.io-client running in workerd:
 * dynamic namespaces (regex and function parents) before and after an eviction, `socket.use`
 * refusing an event, `onAny` / `onAnyOutgoing`, and `disconnecting` with the rooms still there.
 * Fixtures: examples/echo/server-api.ts.
 */
import { env, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { PollingSession } from "./engine-client";
import { connectInWorker } from "./in-worker-client";

const ACK_MS = 8000;
const hostOf = (socket: Socket) => atob(socket.id!.split(".")[0].replace(/-/g, "+").replace(/_/g, "/"));
const hostStubOf = (socket: Socket) => env.CONNECTION_HOST.get(env.CONNECTION_HOST.idFromName(hostOf(socket)));

function nextEvent(socket: Socket, event: string): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event}`)), ACK_MS);
    socket.once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

async function refusal(path: string, auth?: Record<string, unknown>): Promise<string> {
  try {
    const socket = await connectInWorker(path, { mode: "websocket", auth });
    socket.close();
    return "connected";
  } catch (error) {
    return (error as Error).message;
  }
}

describe("dynamic namespaces", () => {
  it("a regex parent and a function parent accept matching names and refuse others", async () => {
    const regex = await connectInWorker("/dyn-42", { mode: "websocket" });
    expect(await regex.timeout(ACK_MS).emitWithAck("where")).toEqual({ nsp: "/dyn-42", via: "regex", restored: false });
    const fn = await connectInWorker("/org-acme", { mode: "polling", auth: { org: "acme" } });
    expect(await fn.timeout(ACK_MS).emitWithAck("where")).toEqual({ nsp: "/org-acme", via: "function", restored: false });

    expect(await refusal("/dyn-x")).toBe("Invalid namespace");
    // A name no child has anywhere: as in Socket.IO, a CONNECT to an existing child skips the
    // matchers, and "/org-acme" exists on fn's host (a refusal there would depend on the host drawn).
    expect(await refusal("/org-umbrella", { org: "acme" })).toBe("Invalid namespace");
    expect(await refusal("/nowhere")).toBe("Invalid namespace");
    regex.close();
    fn.close();
  });

  it("children keep working after an eviction, and a rebuilt host creates new ones (websocket)", async () => {
    const regex = await connectInWorker("/dyn-7", { mode: "websocket" });
    // Same manager, so the same Engine.IO session and the same host.
    const fn = regex.io.socket("/org-globex", { auth: { org: "globex" } });
    await nextEvent(fn, "connect");
    let disconnects = 0;
    for (const socket of [regex, fn]) socket.on("disconnect", () => disconnects++);
    // One answer each before the eviction: the CONNECTs' follow-up work on the host is over.
    for (const socket of [regex, fn]) expect(await socket.timeout(ACK_MS).emitWithAck("where")).toMatchObject({ restored: false });

    await evictDurableObject(hostStubOf(regex));

    // Packets for the children reach a host built again: the children were rebuilt, handlers replayed.
    expect(await regex.timeout(ACK_MS).emitWithAck("where")).toEqual({ nsp: "/dyn-7", via: "regex", restored: true });
    expect(await fn.timeout(ACK_MS).emitWithAck("where")).toEqual({ nsp: "/org-globex", via: "function", restored: true });
    // A new child on the rebuilt host, through its parent.
    const another = regex.io.socket("/dyn-8");
    await nextEvent(another, "connect");
    expect(await another.timeout(ACK_MS).emitWithAck("where")).toEqual({ nsp: "/dyn-8", via: "regex", restored: false });
    expect(disconnects).toBe(0);
    regex.io.engine.close();
  }, 60_000);

  it("children keep working after an eviction (polling)", async () => {
    const regex = await connectInWorker("/dyn-9", { mode: "polling" });
    const fn = await connectInWorker("/org-initech", { mode: "polling", auth: { org: "initech" } });
    for (const socket of [regex, fn]) expect(await socket.timeout(ACK_MS).emitWithAck("where")).toMatchObject({ restored: false });

    await evictDurableObject(hostStubOf(regex));
    if (hostOf(fn) !== hostOf(regex)) await evictDurableObject(hostStubOf(fn));

    expect(await regex.timeout(ACK_MS).emitWithAck("where")).toEqual({ nsp: "/dyn-9", via: "regex", restored: true });
    expect(await fn.timeout(ACK_MS).emitWithAck("where")).toEqual({ nsp: "/org-initech", via: "function", restored: true });
    regex.close();
    fn.close();
  }, 60_000);
});

describe("socket.use, onAny, onAnyOutgoing, disconnecting", () => {
  it('a socket.use middleware refuses an event: its listener does not run, the socket gets "error" (forwarded to the client)', async () => {
    const client = await connectInWorker("/api", { mode: "websocket" });
    const error = nextEvent(client, "error");
    let forbiddenAcked = false;
    client.emit("forbidden", () => {
      forbiddenAcked = true;
    });
    expect((await error)[0]).toEqual({ message: "unauthorized event" });
    expect(await client.timeout(ACK_MS).emitWithAck("allowed")).toBe(true);
    expect(forbiddenAcked).toBe(false);
    client.close();
  });

  it("onAny sees every incoming event, refused ones included, and still does after an eviction", async () => {
    const client = await connectInWorker("/api", { mode: "polling" });
    client.emit("first", 1);
    client.emit("forbidden");
    await client.timeout(ACK_MS).emitWithAck("allowed");
    expect(await client.timeout(ACK_MS).emitWithAck("seen")).toEqual(["first", "forbidden", "allowed", "seen"]);
    await evictDurableObject(hostStubOf(client));
    client.emit("after");
    expect(await client.timeout(ACK_MS).emitWithAck("seen")).toEqual(["first", "forbidden", "allowed", "seen", "after", "seen"]);
    client.close();
  }, 60_000);

  it("onAnyOutgoing sees what the socket emits", async () => {
    const client = await connectInWorker("/api", { mode: "websocket" });
    const ping = nextEvent(client, "ping-out");
    expect(await client.timeout(ACK_MS).emitWithAck("outgoing")).toEqual(["ping-out"]);
    expect(await ping).toEqual([1]);
    client.close();
  });

  it('"disconnecting" sees the socket\'s rooms; "disconnect" comes after they were left', async () => {
    const observer = await connectInWorker("/api", { mode: "websocket" });
    await observer.timeout(ACK_MS).emitWithAck("join", ["observers"]);
    const leaver = await connectInWorker("/api", { mode: "polling" });
    await leaver.timeout(ACK_MS).emitWithAck("join", ["r1", "r2"]);
    const leaverId = leaver.id;
    const leaving = nextEvent(observer, "leaving");
    const left = nextEvent(observer, "left");
    leaver.disconnect();
    const [id, rooms, reason] = await leaving;
    expect(id).toBe(leaverId);
    expect([...(rooms as string[])].sort()).toEqual([leaverId, "r1", "r2"].sort());
    expect(reason).toBe("client namespace disconnect");
    expect(await left).toEqual([leaverId, []]);
    observer.close();
  });
});

describe("volatile", () => {
  /** One GET's packets; a ping is answered at once (the test config pings every 300 ms). */
  async function poll(session: PollingSession): Promise<string[]> {
    const packets = (await (await session.get()).text()).split("\x1e");
    if (packets.includes("2")) await session.post("3");
    return packets;
  }

  it("a volatile emit to a polling client that is not polling is dropped, not queued", async () => {
    const session = await PollingSession.handshake();
    await session.send("40");
    let packets: string[] = [];
    while (!packets.some((packet) => packet.startsWith('42["welcome"'))) packets = [...packets, ...(await poll(session))];
    // No GET held: the first tick is queued, the 49 after it find frames waiting and are dropped.
    await session.send('421["volatile-burst",50]');
    packets = [];
    while (!packets.includes("431[]")) packets = [...packets, ...(await poll(session))];
    expect(packets.filter((packet) => packet.startsWith('42["tick"'))).toEqual(['42["tick",0]']);
    await session.post("1");
  });
});
