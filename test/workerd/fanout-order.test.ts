/**
 * A host's own fan-outs are pipelined (cluster/sequence.ts: the next emit starts once the
 * previous one's calls are issued, not settled) and still arrive in order: one sender's 200
 * numbered emits, started back to back on its host's fan-out (what `io.to(room).emit` in a
 * handler does), reach every member of a room on four hosts exactly once each, in order. The
 * order holds because the sender keeps one stub per target host (cluster/host-stubs.ts).
 */
import { env, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { type EdgeioBindings, hostStub } from "../../durable-objects/bindings";
import { eventOp } from "../../durable-objects/cluster/cluster";
import type { ConnectionHost } from "../../durable-objects/connection-host";
import type { HostFanout } from "../../durable-objects/host-fanout";
import { eventually, type RawClient, roomMembersOn } from "./presence-client";

const bindings = env as unknown as EdgeioBindings;
const ROOM = "ordered:room";
const EMITS = 200;

const joined = roomMembersOn(ROOM);

it("one sender's emits reach every member on every host exactly once, in order", async () => {
  const members = [await joined("ordered:0"), await joined("ordered:1"), await joined("ordered:2"), await joined("ordered:3")];
  members.push(await joined("ordered:1"));
  const target = { nsp: "/", rooms: [ROOM], except: [] };
  const runs = await runInDurableObject(hostStub(bindings, "ordered:0") as never, async (host: ConnectionHost) => {
    const fanouts = (host as unknown as { fanouts: HostFanout }).fanouts;
    // All started at once: nothing waits for an earlier emit here.
    const started = Array.from({ length: EMITS }, (_, n) => fanouts.run(eventOp(target, "seq", n)));
    const ok = (await Promise.allSettled(started)).filter((run) => run.status === "fulfilled").length;
    return { ok, stubs: fanouts.stubs.size };
  });
  // One kept stub per other host (workerd itself keeps order across stubs, so this is what
  // shows the order does not rest on that): not one per call.
  expect(runs).toEqual({ ok: EMITS, stubs: 3 });
  const seqOf = (member: RawClient) => member.events.filter(([name]) => name === "seq").map(([, n]) => n as number);
  await eventually(() => members.every((member) => seqOf(member).length >= EMITS), "every emit at every member");
  await new Promise((resolve) => setTimeout(resolve, 150));
  const expected = Array.from({ length: EMITS }, (_, n) => n);
  for (const member of members) expect(seqOf(member)).toEqual(expected);
});
