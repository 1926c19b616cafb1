/**
 * The HostOpContext (cluster/host-ops.ts) of a ConnectionHost: what applying a cluster
 * operation needs of the host, wired from its parts — selection from the store, delivery
 * through connection-state recovery (a suspended socket's frames go to its log), forwards to
 * hosts a socket recovered on, room changes, closes, the live sockets and namespaces. Apart
 * from connection-host.ts, which keeps the plumbing and the runtime's entry points.
 */
import type { EdgeioBindings } from "./bindings";
import { HostOps } from "./cluster/host-ops";
import type { HostConflation } from "./cluster/host-conflation";
import type { EngineSessions } from "./engine/sessions";
import type { HostStore } from "./host-store";
import { forwardOp, recoveredHere } from "./recovery/host-hooks";
import type { SessionRecovery } from "./recovery/session-recovery";
import type { ClientBridge } from "./socketio/client-bridge";
import type { RoomMembership } from "./socketio/room-membership";
import type { Server } from "./socketio/server";
import type { HostRuntime } from "./socketio/types";

export type { HostOps } from "./cluster/host-ops";

/** The host's parts HostOps reaches (`rooms` and `bridge` are read when an operation runs). */
export type HostOpParts = {
  env: EdgeioBindings;
  hostName: () => string;
  io: Server;
  host: Pick<HostRuntime, "disconnectSocket" | "scheduleDeadline">;
  store: HostStore;
  engine: EngineSessions;
  recovery: SessionRecovery;
  rooms: () => RoomMembership;
  bridge: () => ClientBridge;
  conflation: HostConflation;
};

export function hostOpsOf(parts: HostOpParts): HostOps {
  return new HostOps({
    select: (nsp, rooms, except) => parts.store.select(nsp, rooms, except),
    recoveredHere: (target) => recoveredHere(parts.recovery, parts.store, parts.hostName, target),
    // A suspended socket's frames go to its recovery log.
    deliver: (socket, frames, volatile, op) =>
      parts.recovery.deliver(socket.id, frames, volatile, op, () => parts.engine.send(socket.sid, frames, volatile)),
    mark: (frames, volatile) => parts.recovery.mark(frames, volatile),
    forward: (op) => forwardOp(parts.env, parts.recovery, op),
    join: (socketId, rooms) => parts.rooms().join(socketId, rooms),
    leave: (socketId, rooms) => parts.rooms().leave(socketId, rooms),
    closeSession: (sid, reason) => parts.bridge().closeSession(sid, reason),
    disconnectSocket: (socketId, reason, notify) => parts.host.disconnectSocket(socketId, reason, notify),
    describe: (socketId) => parts.bridge().describe(socketId),
    ready: (socketId) => parts.bridge().ready(socketId),
    namespace: (nsp) => parts.io.namespace(nsp),
    scheduleDeadline: (at, fire) => parts.host.scheduleDeadline(at, fire),
    conflation: parts.conflation,
  });
}
