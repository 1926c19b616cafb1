/**
 * evictDurableObject in the middle of a session, observed by a real socket.io-client:
 * namespaces, rooms and socket.data carry on, and the client sees no difference.
 */
import { env, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { connectInWorker } from "./in-worker-client";

const hostOf = (socket: Socket) => atob(socket.id!.split(".")[0].replace(/-/g, "+").replace(/_/g, "/"));
const hostStubOf = (socket: Socket) => env.CONNECTION_HOST.get(env.CONNECTION_HOST.idFromName(hostOf(socket)));

function nextEvent(socket: Socket, event: string, timeoutMs = 8000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event}`)), timeoutMs);
    socket.once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/** Generous: the first packets after an eviction rebuild the host (and replay handlers); on a loaded machine that takes seconds. */
const ACK_MS = 8000;

describe.each(["polling", "websocket", "upgrade"] as const)("eviction during a %s session", (mode) => {
  it("keeps namespaces, rooms and socket.data, and the client notices nothing", async () => {
    const main = await connectInWorker("/", { mode });
    const admin = await connectInWorker("/admin", { mode, auth: { token: "let-me-in" } });
    const peer = await connectInWorker("/", { mode: "websocket" });
    if (mode === "upgrade" && main.io.engine.transport.name !== "websocket") {
      await new Promise((resolve) => main.io.engine.once("upgrade", resolve));
    }
    expect(main.io.engine.transport.name).toBe(mode === "polling" ? "polling" : "websocket");
    const events: string[] = [];
    main.onAny((event) => events.push(event));
    let disconnects = 0;
    main.on("disconnect", () => disconnects++);
    admin.on("disconnect", () => disconnects++);

    await main.timeout(ACK_MS).emitWithAck("join", "evict-room");
    await main.timeout(ACK_MS).emitWithAck("set-data", "color", "blue");
    await main.timeout(ACK_MS).emitWithAck("echo", 1);
    const sidBefore = main.io.engine.id;

    await evictDurableObject(hostStubOf(main));

    // Same Engine.IO session, same sockets, state intact.
    expect(await main.timeout(ACK_MS).emitWithAck("get-data")).toMatchObject({ color: "blue", events: 1 });
    expect(await main.timeout(ACK_MS).emitWithAck("rooms")).toEqual(expect.arrayContaining([main.id, "evict-room"]));
    expect(await admin.timeout(ACK_MS).emitWithAck("whoami")).toMatchObject({ id: admin.id, role: "admin" });
    const news = nextEvent(main, "news");
    peer.emit("io-to-room", "evict-room", "news", "after eviction");
    expect((await news)[0]).toBe("after eviction");
    expect(await main.timeout(ACK_MS).emitWithAck("echo", "after")).toBe("after");
    expect(main.io.engine.id).toBe(sidBefore);
    expect(main.connected && admin.connected).toBe(true);
    expect(disconnects).toBe(0);
    // The connection handler was replayed silently: no second "welcome".
    expect(events.filter((event) => event === "welcome")).toEqual([]);
    for (const socket of [main, admin, peer]) socket.close();
  }, 60_000);
});
