/**
 * A socket's rooms on its host: the host's own record (SQLite, what broadcasts select from) is
 * the membership; the rooms (RoomDOs) only learn which hosts have members. A room hears from
 * this host on its edges (first socket in, last socket out), and per socket only for sockets
 * the directory tracks one by one (presence members). The namespace directory works the same
 * way (`room = null`): registered on the host's first socket in a namespace, never per socket,
 * and left one lease period after its last (namespace-linger.ts), unless a socket came back.
 * Private rooms and MAX_ROOMS_PER_SOCKET are enforced here, for every join path.
 */
import type { HostStore } from "../host-store";
import { EdgeOrder } from "./edge-order";
import { NamespaceLinger } from "./namespace-linger";
import { privateRoomRefusal, userIdOf, userRoom } from "./private-rooms";
import { RoomJoinError } from "./room-join-error";
import type { Socket } from "./socket";

/** The rooms' side of membership (RoomDOs), as the ConnectionHost provides it. */
export interface RoomDirectory {
  /** Whether a socket with this data is told to rooms one by one (presence); others count per host. */
  tracksSocket(data: unknown): boolean;
  /** Adds a tracked socket to `room` (the room lists this host too). */
  join(
    nsp: string,
    room: string,
    socketId: string,
    data: unknown,
  ): Promise<{ ok: true } | { ok: false; error: "room_full" | "state_too_large"; message: string }>;
  /** A tracked socket left; `lastOfHost`: this host has no other socket in the room. */
  leave(nsp: string, room: string, socketId: string, lastOfHost: boolean): Promise<void>;
  /** This host's first socket in `room` (null: the namespace). */
  addHost(nsp: string, room: string | null): Promise<void>;
  /** This host's last socket left `room` (null: the namespace). */
  removeHost(nsp: string, room: string | null): Promise<void>;
}

/** What this host renews its lease on, once per lease period. */
export type RoomReport =
  /** One room (null: the namespace): this host's sockets there and the tracked ones. */
  | { kind: "room"; nsp: string; room: string | null; sockets: number; tracked: string[] }
  /** One user (UserDO): this host's sockets of that user, i.e. those in its `user:<id>` room. */
  | { kind: "user"; userId: string; sockets: string[] };

export class RoomMembership {
  private readonly order = new EdgeOrder();

  constructor(
    private readonly store: HostStore,
    private readonly live: (socketId: string) => Socket | undefined,
    private readonly directory: RoomDirectory,
    private readonly roomsPerSocket: number,
    /** When the host leaves a namespace's directory after its last socket there (default: at once). */
    private readonly linger = new NamespaceLinger(0, () => () => undefined),
  ) {}

  /** `untracked`: the rooms only list this host (a socket handed over: its presence member is another host's until then). */
  async join(socketId: string, rooms: string[], untracked = false): Promise<void> {
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
    const tracked = !untracked && this.directory.tracksSocket(data);
    // Edges are decided now, synchronously, so two joins racing on this host cannot both be "first".
    const calls = added
      .filter((room) => room !== socketId)
      .map((room) => {
        const first = !this.store.othersInRoom(row.nsp, room, socketId);
        const result = this.order.run(keyOf(row.nsp, room), first, async () => {
          if (tracked) return this.directory.join(row.nsp, room, socketId, data);
          if (first) await this.directory.addHost(row.nsp, room);
          return { ok: true } as const;
        });
        return result.then((outcome) => ({ room, result: outcome }));
      });
    const results = await Promise.all(calls);
    const refused = results.filter((entry) => !entry.result.ok);
    if (refused.length === 0) return;
    // A room that refused (full, oversize state) is not joined: undo it here and tell the caller why.
    for (const { room } of refused) {
      this.store.removeRoom(socketId, room);
      this.live(socketId)?.rooms.delete(room);
      if (!this.store.othersInRoom(row.nsp, room, socketId)) {
        await this.order.run(keyOf(row.nsp, room), true, () => this.directory.removeHost(row.nsp, room)).catch(logged(room));
      }
    }
    const { result } = refused[0];
    throw new RoomJoinError(result.ok ? "room_full" : result.error, result.ok ? "refused" : result.message);
  }

  async leave(socketId: string, rooms: string[]): Promise<void> {
    const row = this.store.socket(socketId);
    if (!row) return;
    const data = this.live(socketId)?.data ?? JSON.parse(row.data);
    const removed = rooms.filter((room) => this.store.removeRoom(socketId, room));
    for (const room of removed) this.live(socketId)?.rooms.delete(room);
    await this.leaveDirectory(row.nsp, socketId, removed, data);
  }

  /**
   * A socket was registered in its namespace (stored already): the namespace directory hears
   * only if it is this host's first socket there. Resolves once the directory lists this host.
   */
  registerSocket(nsp: string, socketId: string): Promise<void> {
    // A host still listed after its last socket left (lingering) has no edge to tell.
    const first = !this.store.othersInNamespace(nsp, socketId) && !this.linger.reuse(nsp);
    const key = keyOf(nsp, null);
    if (!first && this.order.idle(key)) return Promise.resolve(); // the usual connect: no edge to wait for
    return this.order.run(key, first, async () => {
      if (first) await this.directory.addHost(nsp, null);
    });
  }

  /**
   * Tells the rooms the socket left these rooms (null: its namespace), after the host's record
   * no longer has it: tracked sockets one by one, others only on this host's last-socket edge.
   * Failures are logged, not thrown (the lease renewal repairs the rooms). `untracked`: as joined so.
   */
  async leaveDirectory(nsp: string, socketId: string, rooms: Array<string | null>, data: unknown, untracked = false): Promise<void> {
    const tracked = !untracked && this.directory.tracksSocket(data);
    await Promise.all(
      rooms
        .filter((room) => room !== socketId)
        .map((room) => {
          const last = room === null ? !this.store.othersInNamespace(nsp, socketId) : !this.store.othersInRoom(nsp, room, socketId);
          const key = keyOf(nsp, room);
          // The host's last socket in the namespace: it stays listed for one lease period (namespace-linger.ts).
          if (last && room === null && this.linger.enabled) this.linger.start(nsp, () => this.leaveNamespace(nsp));
          else if (last || (room !== null && tracked)) {
            // A tracked leave waits for every call in flight (its own join, a rejoin), so it never overtakes them.
            return this.order
              .run(key, true, () =>
                room !== null && tracked ? this.directory.leave(nsp, room, socketId, last) : this.directory.removeHost(nsp, room),
              )
              .catch(logged(room));
          }
          return this.order.run(key, false, async () => undefined);
        }),
    );
  }

  /** A namespace's linger period ran out with no socket back: the host leaves its directory (an edge, in order). */
  private leaveNamespace(nsp: string): void {
    if (this.store.othersInNamespace(nsp, "")) return; // a socket there after all: the host stays listed
    void this.order.run(keyOf(nsp, null), true, () => this.directory.removeHost(nsp, null)).catch(logged(null));
  }

  /**
   * Joins tracked sockets again that a room answered it does not have (a lost join, or this
   * host dropped for missed renewals), if they are still in the room here.
   */
  async rejoin(nsp: string, room: string, socketIds: string[]): Promise<void> {
    await Promise.all(
      socketIds.map((socketId) => {
        const row = this.store.socket(socketId);
        if (!row || row.nsp !== nsp || !this.store.roomsOf(socketId).includes(room)) return undefined;
        const data = this.live(socketId)?.data ?? JSON.parse(row.data);
        if (!this.directory.tracksSocket(data)) return undefined;
        // A barrier: a leave issued later must not overtake it (that would leave a ghost).
        return this.order.run(keyOf(nsp, room), true, () => this.directory.join(nsp, room, socketId, data)).catch(logged(room, "joining"));
      }),
    );
  }

  /**
   * What this host renews: every namespace and room it has sockets in, with counts and tracked
   * sockets, and every user whose sockets here are in their own `user:<id>` room.
   */
  reports(): RoomReport[] {
    type Room = Extract<RoomReport, { kind: "room" }>;
    const rooms = new Map<string, Room>();
    const users = new Map<string, string[]>();
    const dataOf = new Map<string, unknown>();
    for (const { nsp, sockets } of this.store.namespaceCounts())
      rooms.set(keyOf(nsp, null), { kind: "room", nsp, room: null, sockets, tracked: [] });
    // Lingering: still listed with no socket, kept alive by its renewals until it leaves.
    for (const nsp of this.linger.namespaces())
      if (!rooms.has(keyOf(nsp, null))) rooms.set(keyOf(nsp, null), { kind: "room", nsp, room: null, sockets: 0, tracked: [] });
    for (const member of this.store.roomMembers()) {
      const key = keyOf(member.nsp, member.room);
      const report = rooms.get(key) ?? { kind: "room", nsp: member.nsp, room: member.room, sockets: 0, tracked: [] };
      rooms.set(key, report);
      report.sockets += 1;
      if (!dataOf.has(member.id)) dataOf.set(member.id, this.live(member.id)?.data ?? JSON.parse(member.data));
      const data = dataOf.get(member.id);
      if (this.directory.tracksSocket(data)) report.tracked.push(member.id);
      const userId = userIdOf(data);
      if (userId !== undefined && member.room === userRoom(userId)) users.set(userId, [...(users.get(userId) ?? []), member.id]);
    }
    return [...rooms.values(), ...[...users].map(([userId, sockets]) => ({ kind: "user" as const, userId, sockets }))];
  }
}

function keyOf(nsp: string, room: string | null): string {
  return JSON.stringify([nsp, room]);
}

function logged(room: string | null, action = "leaving") {
  return (error: unknown) => console.error(`edgeio: ${action} room ${room ?? "(namespace)"} failed`, error);
}
