/**
 * Which hosts hold sockets matching a target: the RoomDOs know each room's hosts, the
 * namespace's RoomDO (its directory: hosts register on their first socket there, never per
 * socket) every host of a namespace, and a socket id names its own host.
 */

import { hostOfSocketId, verifySocketId } from "../../protocol/ids";
import { type EdgeioBindings, roomStub } from "../bindings";
import { configFrom } from "../config";
import type { Target } from "../socketio/types";

/** How a room's hosts are found: its RoomDO asked each time, or a host's coherent copy (room-hosts-cache.ts). */
export type RoomHostsOf = (nsp: string, room: string | null) => Promise<string[]>;

export async function hostsFor(env: EdgeioBindings, target: Target, roomHosts?: RoomHostsOf): Promise<Set<string>> {
  const hostsOf: RoomHostsOf = roomHosts ?? ((nsp, room) => roomStub(env, nsp, room).hosts());
  if (target.rooms.length === 0) return new Set(await hostsOf(target.nsp, null));
  const hosts = new Set<string>();
  const { sidSecret } = configFrom(env as unknown as Record<string, unknown>);
  await Promise.all(
    target.rooms.map(async (room) => {
      // A socket id names its host: no RoomDO is asked (nobody can be a member of that room but
      // the socket itself), and a forged id addresses no host at all.
      if (hostOfSocketId(room)) {
        const owner = await verifySocketId(sidSecret, room);
        if (owner) hosts.add(owner);
        return;
      }
      for (const host of await hostsOf(target.nsp, room)) hosts.add(host);
    }),
  );
  return hosts;
}
