/**
 * Cross-host delivery: find the hosts that hold sockets matching a target (through the
 * RoomDOs, or straight from a socket id), then hand the operation to each host once.
 * Each host selects its own matching sockets, so a socket in several target rooms gets a
 * message exactly once, and `except` works across hosts.
 */
import { configFrom } from "./config";
import { hostOfSocketId, verifySocketId } from "../protocol/ids";
import { hostStub, roomStub, type EdgeioBindings } from "./bindings";
import type { HostOp, Target } from "./socketio/types";

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

export interface LocalHost {
  name: string;
  apply(op: HostOp): Promise<number>;
}

/**
 * Applies `op` on every host concerned; returns how many hosts were reached and how many
 * sockets matched. A `local` host is always included (its membership is fresher than the
 * RoomDOs' while a join is still in flight) and is called directly, not through RPC.
 */
export async function dispatch(env: EdgeioBindings, op: HostOp, local?: LocalHost): Promise<{ hosts: number; sockets: number }> {
  const hosts = await hostsFor(env, op.target);
  if (local) hosts.add(local.name);
  const counts = await Promise.all(
    [...hosts].map(async (host) => {
      try {
        return local && host === local.name ? await local.apply(op) : await hostStub(env, host).apply(op);
      } catch (error) {
        console.error(`edgeio: delivery to host ${host} failed`, error);
        return 0;
      }
    }),
  );
  return { hosts: hosts.size, sockets: counts.reduce((sum: number, n: number) => sum + n, 0) };
}
