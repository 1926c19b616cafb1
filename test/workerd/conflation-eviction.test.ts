/**
 * Conflation across an eviction: a value a host holds (its trailing edge not yet sent) is in
 * SQLite and the alarm is persisted, so after `evictDurableObject` the new instance still
 * delivers it: the member ends on the latest value, not the one before.
 */
import { env, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { eventOp } from "../../durable-objects/cluster/cluster";
import type { EmitOp } from "../../durable-objects/socketio/types";
import { connectInWorker } from "./in-worker-client";

const hostOf = (socket: Socket) => atob(socket.id!.split(".")[0].replace(/-/g, "+").replace(/_/g, "/"));
const hostStubOf = (socket: Socket) => env.CONNECTION_HOST.get(env.CONNECTION_HOST.idFromName(hostOf(socket)));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const quote = (seq: number): EmitOp => ({
  ...eventOp({ nsp: "/", rooms: ["evict-feed"], except: [] }, "quote", { seq }),
  conflate: { key: "AAPL", intervalMs: 300, event: "quote" },
});

describe("conflation and eviction", () => {
  it("a held latest value survives the host's eviction and is delivered by the next instance", async () => {
    const member = await connectInWorker("/", { mode: "websocket" });
    const seen: number[] = [];
    member.on("quote", (q: { seq: number }) => seen.push(q.seq));
    await member.timeout(8000).emitWithAck("join", "evict-feed");
    const host = hostStubOf(member);
    const before = await host.stats();

    for (const seq of [1, 2, 3]) expect(await host.apply(quote(seq))).toEqual({ matched: 1 });
    for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(10);
    expect(seen).toEqual([1]); // the leading edge; 2 and 3 are held, 3 replacing 2

    await evictDurableObject(host);
    await sleep(350); // past the trailing edge's time
    await runDurableObjectAlarm(host); // the alarm wakes a new instance (if it has not fired already)
    for (let i = 0; i < 300 && seen.at(-1) !== 3; i++) await sleep(10);

    expect(seen).toEqual([1, 3]);
    const after = await host.stats();
    expect(after.instanceId).not.toBe(before.instanceId); // really delivered by a new instance
    member.close();
  }, 30_000);
});
