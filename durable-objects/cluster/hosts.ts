/**
 * Which hosts hold sockets matching a target: the RoomDOs know each room's hosts, the
 * namespace's RoomDO (its directory: hosts register on their first socket there, never per
 * socket) every host of a namespace, and a socket id names its own host.
 */

import { hostOfSocketId, verifySocketId } from "../../protocol/ids";
import { type EdgeioBindings, roomStub } from "../bindings";
import { configFrom } from "../config";
import type { Target } from "../socketio/types";

export async function hostsFor(env: EdgeioBindings, target: Target): Promise<Set<string>> {
  if (target.rooms.length === 0) return new Set(await roomStub(env, target.nsp, null).hosts());
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
      for (const host of await roomStub(env, target.nsp, room).hosts()) hosts.add(host);
    }),
  );
  return hosts;
}
