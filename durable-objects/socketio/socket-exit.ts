/**
 * How a socket leaves its host (client-bridge.ts's other half): removed for good, or, with
 * connection-state recovery and a transport failure, suspended — its Socket object closes
 * ("disconnecting", "disconnect" with the reason, as Socket.IO) but its row, rooms and room
 * memberships stay for the window — and, when the window ends without a reconnect, finalized
 * (rooms and namespace left, `io.on("recovery:expired")` listeners called once).
 */
import { encodePacket, PacketType } from "../../protocol/socketio-codec";
import type { HostStore, SocketRow } from "../host-store";
import type { ExpiredSocket } from "../recovery/options";
import type { SessionRecovery } from "../recovery/session-recovery";
import type { SuspendedSocket } from "../recovery/store";
import { childKey } from "./handshake";
import type { RoomMembership } from "./room-membership";
import type { Namespace, Server } from "./server";
import type { Socket } from "./socket";
import type { DisconnectReason } from "./types";
import type { CloseReason } from "../engine/types";

/** What leaving needs from the bridge. */
export interface ExitContext {
  readonly io: Server;
  readonly store: HostStore;
  readonly recovery: SessionRecovery;
  rooms(): RoomMembership;
  send(sid: string, frames: ReturnType<typeof encodePacket>): void;
  close(sid: string, reason: CloseReason): void;
  /** The live Socket of a stored row (rebuilt after an eviction). */
  restore(row: SocketRow): Socket;
  /** Forgets the live Socket object of an id. */
  drop(socketId: string): void;
  namespaceOf(name: string): Namespace | undefined;
}

export class SocketExit {
  constructor(private readonly bridge: ExitContext) {}

  /** Ends the whole Engine.IO session of a socket. */
  closeSession(sid: string, reason: DisconnectReason): void {
    // Like Socket.IO's disconnect(true): each namespace hears 41 first, so the client knows
    // the server ended it ("io server disconnect") and does not reconnect.
    if (reason === "server namespace disconnect") {
      const session = this.bridge.store.session(sid);
      if (!session || session.closing) return;
      for (const row of this.bridge.store.socketsOfSession(sid))
        this.bridge.send(sid, encodePacket({ type: PacketType.DISCONNECT, nsp: row.nsp }));
    }
    this.bridge.close(sid, reason === "client namespace disconnect" ? "transport close" : reason);
  }

  /** Disconnects one socket from its namespace: listeners, rooms, storage. */
  async remove(socketId: string, reason: DisconnectReason, notifyClient: boolean): Promise<void> {
    const { store } = this.bridge;
    const row = store.socket(socketId);
    if (!row) return;
    // A suspended socket has no session any more: it ends as its window would, without the hook.
    if (this.bridge.recovery.isSuspended(socketId)) return this.finalize(socketId, null);
    const socket = this.bridge.restore(row);
    const rooms = store.roomsOf(socketId);
    if (notifyClient) this.bridge.send(row.sid, encodePacket({ type: PacketType.DISCONNECT, nsp: row.nsp }));
    this.forgetRow(row);
    await socket.close(reason);
    const namespace = this.bridge.namespaceOf(row.nsp);
    if (namespace) this.bridge.io.socketLeft(namespace);
    await this.bridge.rooms().leaveDirectory(row.nsp, socketId, [...rooms, null], socket.data);
    await this.bridge.recovery.forgetAtHome(socketId);
  }

  /**
   * The session of a socket ended by a transport failure: the Socket object closes as in
   * Socket.IO, while the socket stays in its rooms here (and in the rooms' directories, so
   * presence does not flap) and what it is sent is logged until it comes back or the window ends.
   */
  async suspend(row: SocketRow, reason: DisconnectReason): Promise<void> {
    const socket = this.bridge.restore(row);
    this.bridge.recovery.suspend(row.id, row.nsp);
    // Events still queued for a long-poll (the session's queue is dropped next) start the log; the
    // client's offset tells on resume which of them it had already received.
    for (const frame of queuedEventsOf(this.bridge.store.peek(row.sid).frames, row.nsp))
      this.bridge.recovery.intercept(row.id, [frame], false);
    this.bridge.drop(row.id);
    this.bridge.namespaceOf(row.nsp)?.sockets.delete(row.id);
    await socket.close(reason);
  }

  /**
   * Ends a suspended socket for good: the window ran out (`reason`: the hook is called once),
   * or null (ended otherwise: no hook). `recovery` has already forgotten its window when
   * `known` is given (the alarm's batch).
   */
  async finalize(socketId: string, reason: ExpiredSocket["reason"] | null, known?: SuspendedSocket): Promise<void> {
    const suspended = known ?? this.bridge.recovery.end(socketId);
    const row = this.bridge.store.socket(socketId);
    if (!suspended || !row) return;
    const rooms = this.bridge.store.roomsOf(socketId);
    const data: unknown = JSON.parse(row.data);
    this.forgetRow(row);
    const namespace = this.bridge.namespaceOf(row.nsp);
    if (namespace) this.bridge.io.socketLeft(namespace);
    await this.bridge.rooms().leaveDirectory(row.nsp, socketId, [...rooms, null], data);
    await this.bridge.recovery.forgetAtHome(socketId);
    if (reason === null) return;
    const expired: ExpiredSocket = {
      id: socketId,
      nsp: row.nsp,
      data,
      rooms: rooms.filter((room) => room !== socketId),
      disconnectedAt: suspended.disconnected_at,
      reason,
    };
    for (const listener of this.bridge.io.recoveryExpiredListeners()) {
      try {
        await listener(expired);
      } catch (error) {
        console.error(`edgeio: "recovery:expired" listener threw for ${socketId}`, error);
      }
    }
  }

  private forgetRow(row: SocketRow): void {
    const { store } = this.bridge;
    store.deleteSocket(row.id);
    this.bridge.drop(row.id);
    const namespace = this.bridge.namespaceOf(row.nsp);
    if (namespace?.parent && !store.hasSocketsIn(row.nsp)) store.deleteMeta(childKey(row.nsp));
    namespace?.sockets.delete(row.id);
  }
}

/** The text EVENT frames of namespace `nsp` in a session's polling queue (binary ones are not kept). */
function queuedEventsOf(frames: string[], nsp: string): string[] {
  const head = nsp === "/" ? "42" : `42${nsp},`;
  return frames.filter((frame) => frame.startsWith(head) && (nsp !== "/" || frame[2] !== "/"));
}
