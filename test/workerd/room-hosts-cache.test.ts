/**
 * A ConnectionHost keeps a copy of the host lists of the rooms it broadcasts to
 * (cluster/room-hosts-cache.ts), kept coherent by the RoomDO, which tells every host keeping a
 * copy before a join that adds a host completes. Counted here, with real raw Socket.IO clients
 * on named hosts and the echo app's `io-to-room` handler (`io.to(room).emit` in the sender's host):
 * - a broadcast from a host with a copy costs H calls (one `apply` per other host, the sender's
 *   own applied directly): the RoomDO is not asked;
 * - a member whose join was acked receives every later broadcast exactly once, when its host is
 *   new to the room, after the RoomDO was evicted (it still knows who keeps copies), and after
 *   the sender's host was evicted (its copy is gone; it asks again).
 */
import { env, evictDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { type EdgeioBindings, hostStub, roomStub } from "../../durable-objects/bindings";
import type { HostStats } from "../../durable-objects/host-stats";
import type { RoomStats } from "../../durable-objects/room";
import { eventually, type RawClient, roomMembersOn } from "./presence-client";

const bindings = env as unknown as EdgeioBindings;
const ROOM = "cached:room";

const joined = roomMembersOn(ROOM);

const roomCalls = async () => ((await roomStub(bindings, "/", ROOM).stats()) as RoomStats).calls;
const rpcsOf = async (host: string) => ((await hostStub(bindings, host).stats()) as HostStats).work.invocations.rpc;

/** The sender's `io.to(ROOM).emit("news", n)`, then every member has it exactly once (and nothing else lost). */
async function broadcast(sender: RawClient, members: RawClient[], n: number): Promise<void> {
  sender.ws.send(`42${JSON.stringify(["io-to-room", ROOM, "news", n])}`);
  const got = (member: RawClient) => member.events.filter(([name, value]) => name === "news" && value === n).length;
  await eventually(() => members.every((member) => got(member) >= 1), `news ${n} at every member`);
  await new Promise((resolve) => setTimeout(resolve, 150));
  for (const member of members) expect(got(member)).toBe(1);
}

it("broadcasts from a host with a copy skip the RoomDO; joins on new hosts, and evictions of either side, lose nothing", async () => {
  const sender = await joined("cached:0");
  const members = [sender, await joined("cached:0"), await joined("cached:1"), await joined("cached:2")];

  // The first broadcast fetches the list (and subscribes), the next ones do not ask the room.
  await broadcast(sender, members, 1);
  const afterFirst = await roomCalls();
  expect(afterFirst.cachedHosts).toBe(1);
  const before = await Promise.all(["cached:1", "cached:2"].map(rpcsOf));
  await broadcast(sender, members, 2);
  await broadcast(sender, members, 3);
  // (Lease renewals come from the hosts' alarms meanwhile: only the fan-out calls are compared.)
  const { cachedHosts, hosts } = await roomCalls();
  expect({ cachedHosts, hosts }).toEqual({ cachedHosts: 1, hosts: afterFirst.hosts });
  // H = 3 hosts: one apply RPC per other host per broadcast, the sender's own applied in place.
  expect(await Promise.all(["cached:1", "cached:2"].map(rpcsOf))).toEqual(before.map((n) => n + 2));

  // A join that adds a host is acked only after the sender dropped its copy.
  members.push(await joined("cached:3"));
  await broadcast(sender, members, 4);
  expect(await roomCalls()).toMatchObject({ invalidations: 1, cachedHosts: 2 });
  // A join on a host already listed changes nothing.
  members.push(await joined("cached:3"));
  expect((await roomCalls()).invalidations).toBe(1);
  await broadcast(sender, members, 5);
  expect((await roomCalls()).cachedHosts).toBe(2);

  // The RoomDO restarts: it still knows who keeps a copy (stored), and tells it.
  await evictDurableObject(roomStub(bindings, "/", ROOM));
  members.push(await joined("cached:4"));
  await broadcast(sender, members, 6);
  expect((await roomCalls()).invalidations).toBe(1);

  // The sender's host restarts: its copy is gone, it asks again (once).
  await evictDurableObject(hostStub(bindings, "cached:0"));
  await broadcast(sender, members, 7);
  await broadcast(sender, members, 8);
  expect((await roomCalls()).cachedHosts).toBe(2);
  members.push(await joined("cached:5"));
  await broadcast(sender, members, 9);
}, 60_000);
