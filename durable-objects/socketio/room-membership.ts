/**
 * A socket's rooms on its host: the host's own record (SQLite, what broadcasts select from)
 * kept in step with the RoomDOs that tell other hosts where members are. Private rooms and
 * MAX_ROOMS_PER_SOCKET are enforced here, for every join path (socket.join and socketsJoin).
 */
import type { HostStore } from "../host-store";
import { privateRoomRefusal, userIdOf } from "./private-rooms";
import { RoomJoinError } from "./room-join-error";
import type { Socket } from "./socket";

/** The rooms' side of membership (RoomDOs), as the ConnectionHost provides it. */
export interface RoomDirectory {
  /** Adds the socket to `room` (null: the namespace itself); `data` is the socket's data, for presence. */
  join(
    nsp: string,
    room: string | null,
    socketId: string,
    data: unknown,
  ): Promise<{ ok: true } | { ok: false; error: "room_full" | "state_too_large"; message: string }>;
  leave(nsp: string, room: string | null, socketId: string): Promise<void>;
}

export class RoomMembership {
  constructor(
    private readonly store: HostStore,
    private readonly live: (socketId: string) => Socket | undefined,
    private readonly directory: RoomDirectory,
    private readonly roomsPerSocket: number,
  ) {}

  async join(socketId: string, rooms: string[]): Promise<void> {
    const row = this.store.socket(socketId);
    if (!row) return;
    const data = this.live(socketId)?.data ?? JSON.parse(row.data);
    // Private rooms are refused here too, for joins that do not pass through Socket.join (socketsJoin).
    const joiner = { id: socketId, userId: userIdOf(data) };
    const allowed = rooms.filter((room) => privateRoomRefusal(joiner, room) === null);
    // One read of the socket's rooms serves both the dedup and the limit (its own id does not count).
    const current = new Set(this.store.roomsOf(socketId));
    current.delete(socketId);
    const fresh = [...new Set(allowed)].filter((room) => room !== socketId && !current.has(room));
    if (current.size + fresh.length > this.roomsPerSocket) {
      for (const room of fresh) this.live(socketId)?.rooms.delete(room);
      throw new RoomJoinError("room_limit", `a socket may be in at most ${this.roomsPerSocket} rooms (MAX_ROOMS_PER_SOCKET)`);
    }
    const added = allowed.filter((room) => this.store.addRoom(socketId, room));
    for (const room of added) this.live(socketId)?.rooms.add(room);
    const results = await Promise.all(
      added
        .filter((room) => room !== socketId)
        .map(async (room) => ({ room, result: await this.directory.join(row.nsp, room, socketId, data) })),
    );
    const refused = results.filter((entry) => !entry.result.ok);
    if (refused.length === 0) return;
    // A room that refused (full, oversize state) is not joined: undo it here and tell the caller why.
    for (const { room } of refused) {
      this.store.removeRoom(socketId, room);
      this.live(socketId)?.rooms.delete(room);
    }
    const { result } = refused[0];
    throw new RoomJoinError(result.ok ? "room_full" : result.error, result.ok ? "refused" : result.message);
  }

  async leave(socketId: string, rooms: string[]): Promise<void> {
    const row = this.store.socket(socketId);
    if (!row) return;
    const removed = rooms.filter((room) => this.store.removeRoom(socketId, room));
    for (const room of removed) this.live(socketId)?.rooms.delete(room);
    await this.leaveDirectory(row.nsp, socketId, removed);
  }

  /** Tells the RoomDOs the socket left these rooms (null: its namespace); failures are logged, not thrown. */
  async leaveDirectory(nsp: string, socketId: string, rooms: Array<string | null>): Promise<void> {
    await Promise.all(
      rooms
        .filter((room) => room !== socketId)
        .map((room) =>
          this.directory.leave(nsp, room, socketId).catch((error: unknown) => console.error(`edgeio: leaving room ${room} failed`, error)),
        ),
    );
  }
}
