/**
 * The RoomDOs as one ConnectionHost sees them: the RoomDirectory its room membership talks to
 * (edges, presence members) and its lease renewals. Presence is decided here, from the
 * socket's data (`data.user`), since the socketio layer knows nothing of presence.
 */
import { roomStub, userStub, type EdgeioBindings } from "./bindings";
import { memberMetaOf } from "./presence/types";
import type { RoomDirectory, RoomReport } from "./socketio/room-membership";

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
