/**
 * The cross-host server API after `evictDurableObject`: fetchSockets still describes a
 * socket's data and rooms from SQLite, and a broadcast with acks reaches a socket rebuilt
 * after the eviction (its "connection" replay over first) and collects its answer.
 */
import { env, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { connectInWorker } from "./in-worker-client";

const hostOf = (socket: Socket) => atob(socket.id!.split(".")[0].replace(/-/g, "+").replace(/_/g, "/"));
const hostStubOf = (socket: Socket) => env.CONNECTION_HOST.get(env.CONNECTION_HOST.idFromName(hostOf(socket)));
const ACK_MS = 8000;

describe("fetchSockets and broadcast acks after an eviction", () => {
  it("describe the evicted host's socket and collect its answer", async () => {
    const evicted = await connectInWorker("/", { mode: "websocket" });
    const caller = await connectInWorker("/", { mode: "websocket" });
    evicted.on("ack-me", (_room: string, answer: (r: string) => void) => answer(`from ${evicted.id}`));
    caller.on("ack-me", (_room: string, answer: (r: string) => void) => answer(`from ${caller.id}`));
    for (const socket of [evicted, caller]) await socket.timeout(ACK_MS).emitWithAck("join", "after-eviction");
    await evicted.timeout(ACK_MS).emitWithAck("set-data", "color", "green");

    await evictDurableObject(hostStubOf(evicted));

    const fetched = (await caller.timeout(ACK_MS).emitWithAck("fetch-sockets", { room: "after-eviction" })) as {
      sockets: Array<{ id: string; rooms: string[]; data: Record<string, unknown> }>;
      failures: unknown[];
    };
    expect(fetched.failures).toEqual([]);
    const described = fetched.sockets.find((socket) => socket.id === evicted.id);
    expect(described?.data).toMatchObject({ color: "green" });
    expect(described?.rooms.sort()).toEqual([evicted.id, "after-eviction"].sort());

    const acked = await caller.timeout(ACK_MS).emitWithAck("ack-broadcast", { room: "after-eviction", timeout: 3000 });
    expect(acked).toEqual({ error: null, responses: expect.arrayContaining([`from ${evicted.id}`, `from ${caller.id}`]) });
    expect((acked as { responses: unknown[] }).responses).toHaveLength(2);
    for (const socket of [evicted, caller]) socket.close();
  }, 60_000);
});
