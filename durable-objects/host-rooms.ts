/**
 * The RoomDOs as one ConnectionHost sees them: the RoomDirectory its room membership talks to
 * (edges, presence members) and its lease renewals. Presence is decided here, from the
 * socket's data (`data.user`), since the socketio layer knows nothing of presence.
 */
import { roomStub, userStub, type EdgeioBindings } from "./bindings";
import type { HostStore } from "./host-store";
import { presenceConfigFrom } from "./presence/config";
import { memberMetaOf } from "./presence/types";
import { NamespaceLinger } from "./socketio/namespace-linger";
import { type RoomDirectory, RoomMembership, type RoomReport } from "./socketio/room-membership";
import type { Socket } from "./socketio/socket";

/**
 * A host's room membership, wired to the RoomDOs: it leaves a namespace's directory one lease
 * period after its last socket there (namespace-linger.ts), on a deadline of the host's alarm.
 */
export function hostRoomMembership(
  env: EdgeioBindings,
  host: { store: HostStore; hostName: () => string; live: (socketId: string) => Socket | undefined; roomsPerSocket: number },
  schedule: (at: number, fire: () => void) => () => void,
): RoomMembership {
  const linger = new NamespaceLinger(presenceConfigFrom(env).leaseMs, schedule);
  return new RoomMembership(host.store, host.live, roomDirectoryOf(env, host.hostName), host.roomsPerSocket, linger);
}

export function roomDirectoryOf(env: EdgeioBindings, hostName: () => string): RoomDirectory {
  return {
    tracksSocket: (data) => memberMetaOf(data).user !== undefined,
    join: (nsp, room, socketId, data) => roomStub(env, nsp, room).join(socketId, hostName(), memberMetaOf(data), { nsp, room }),
    leave: (nsp, room, socketId, last) => roomStub(env, nsp, room).leave(socketId, last ? hostName() : undefined),
    addHost: (nsp, room) => roomStub(env, nsp, room).addHost(hostName(), { nsp, room }),
    removeHost: (nsp, room) => roomStub(env, nsp, room).removeHost(hostName()),
  };
}

/**
 * One lease renewal, as of `asOf`: this host's count and tracked sockets in a room, or a user's
 * sockets here. Answers the tracked sockets the room does not have (to join again).
 */
export async function renewLease(env: EdgeioBindings, host: string, report: RoomReport, asOf: number): Promise<string[]> {
  if (report.kind === "user") {
    await userStub(env, report.userId).renew(host, report.sockets, asOf);
    return [];
  }
  const { nsp, room } = report;
  const answer = await roomStub(env, nsp, room).renew(host, { sockets: report.sockets, presence: report.tracked, asOf }, { nsp, room });
  return answer.missing;
}
