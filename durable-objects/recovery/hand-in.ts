/**
 * A socket taken over from another host, on the host its client came back through (the
 * taker), between the first phase of the hand-over (its state read there; it stays suspended
 * there, logging) and the CONNECT reply: stored here, listed by its namespace and rooms here,
 * then the second phase (the other host's log; it lets the socket go), merged with what was
 * held here meanwhile (docs/recovery.md, "Resuming").
 */
import type { WireFrame } from "../../protocol/engine-codec";
import type { HostStore } from "../host-store";
import type { RoomMembership } from "../socketio/room-membership";
import type { SessionRecovery, TakenOver } from "./session-recovery";

/** The socket's row as the client bridge stores it (its session is the new one). */
interface StoredSocket {
  id: string;
  sid: string;
  nsp: string;
  auth: string;
  data: string;
}

export class HandIn {
  constructor(
    private readonly recovery: SessionRecovery,
    private readonly store: HostStore,
    private readonly rooms: () => RoomMembership,
    /** Lists this host in a namespace's directory (the bridge's registerSocket). */
    private readonly register: (nsp: string, socketId: string) => Promise<void>,
  ) {}

  /**
   * Runs the hand-in; the missed packets after `offset`, to send at once (no await between this
   * returning and the CONNECT reply), or null: a fresh socket (the other host keeps the socket
   * suspended if its second phase did not run), or the session is gone.
   */
  async run(taken: TakenOver, stored: StoredSocket, offset: unknown): Promise<WireFrame[][] | null> {
    const { recovery } = this;
    const { socketId, nsp } = taken;
    // Held from the moment a broadcast can select it here: the rooms may list this host already.
    recovery.beginHandIn(socketId);
    this.store.insertSocket({ ...stored, connected_at: Date.now() });
    await this.register(nsp, socketId);
    // Without presence members: the other host's stays until it lets the socket go (the bridge adds them after).
    await this.rooms()
      .join(socketId, taken.rooms, true)
      .catch((error: unknown) => console.error(`edgeio: handed-over socket ${socketId} could not join every room`, error));
    const logged = await recovery.finishHandIn(taken);
    const missed = recovery.endHandIn(socketId, logged && recovery.since(logged, offset));
    if (!missed) {
      // The other host still has it (no second phase there), or it let it go and what was held here overflowed.
      await recovery.abandonHandIn(socketId, nsp);
      return null;
    }
    if (this.store.session(stored.sid)) return missed.map((packet) => packet.frames);
    // The client left meanwhile: a recoverable close suspended it here (its log is what it missed); any other ends it.
    if (recovery.isSuspended(socketId)) recovery.relog(socketId, missed);
    else await recovery.abandonHandIn(socketId, nsp).then(() => recovery.forgetAtHome(socketId));
    return null;
  }
}
