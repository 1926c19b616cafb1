/**
 * RoomDO: one per (namespace, room). Keeps the exact membership of a room across every
 * ConnectionHost, so a broadcast costs one call per host that has members, never one per
 * socket. `room = null` (the namespace room) lists every socket of a namespace.
 *
 * Presence: a member whose socket has `data.user` is a presence entry (user, device, joined
 * at, small state). Entries are aggregated per user; `presence:join` / `presence:leave` go to
 * the room only on a user's first connection / after its last one has been gone for the grace
 * period, `presence:update` when a device comes or goes or state changes. A lease, checked by
 * the alarm against the hosts' `aliveSockets`, removes members whose host forgot to leave
 * (a crash, an eviction), so no ghost stays online.
 */
import { clusterOf, eventOp } from "./cluster/cluster";
import { deadSockets } from "./cluster/lease";
import { matchesPattern } from "./presence/config";
import { PresenceObject, type PresenceEnv } from "./presence/presence-object";
import { fallbackDeviceIdOf, memberIdOf } from "./presence/ids";
import { jsonBytes, MemberMetaSchema, type JoinResult, type MemberMeta, type PresenceSnapshot, type PresenceUser } from "./presence/types";
import { metaOf, ROOM_SCHEMA, snapshotOf, type MemberRow } from "./presence/room-members";
import { queueWebhook } from "./webhooks/queue";

/** Where a room lives; hosts pass it with each join so the RoomDO can announce into itself. */
export interface RoomScope {
  nsp: string;
  room: string | null;
}

export class RoomDO extends PresenceObject {
  constructor(ctx: DurableObjectState, env: PresenceEnv) {
    super(ctx, env, { schema: ROOM_SCHEMA, metaTable: "room_meta" });
    // Rooms created before presence existed have the three original columns only.
    const columns = new Set(
      this.sql
        .exec<{ name: string }>("PRAGMA table_info(members)")
        .toArray()
        .map((c) => c.name),
    );
    for (const [column, type] of [
      ["user_id", "TEXT"],
      ["user_name", "TEXT"],
      ["device_id", "TEXT"],
      ["state", "TEXT"],
      ["member_id", "TEXT"],
    ] as const) {
      if (!columns.has(column)) this.sql.exec(`ALTER TABLE members ADD COLUMN ${column} ${type}`);
    }
    this.sql.exec("CREATE INDEX IF NOT EXISTS members_by_user ON members (user_id)");
    // Members stored before member ids existed: give them one (and no socket id as device id).
    void ctx.blockConcurrencyWhile(() => this.backfillMemberIds());
  }

  private async backfillMemberIds(): Promise<void> {
    const rows = this.sql
      .exec<{ socket_id: string; device_id: string | null }>("SELECT socket_id, device_id FROM members WHERE member_id IS NULL")
      .toArray();
    for (const row of rows) {
      const device = row.device_id === row.socket_id ? await fallbackDeviceIdOf(row.socket_id) : row.device_id;
      this.sql.exec(
        "UPDATE members SET member_id = ?, device_id = ? WHERE socket_id = ?",
        await this.memberId(row.socket_id),
        device,
        row.socket_id,
      );
    }
  }

  private memberId(socketId: string): Promise<string> {
    return memberIdOf(this.ctx.id.toString(), socketId);
  }

  // ════════════════════════════ membership (ConnectionHost RPC) ════════════════════════════
  /**
   * Adds a socket. `meta` (from the socket's data) makes it a presence entry; `scope` names
   * the room so presence events can be sent into it. Refuses beyond ROOM_MAX_MEMBERS.
   */
  async join(socketId: string, host: string, meta: MemberMeta = {}, scope?: RoomScope): Promise<JoinResult> {
    const parsed = MemberMetaSchema.safeParse(meta);
    const member = parsed.success ? parsed.data : {};
    // Presence never shows a socket id (see presence/ids.ts). Hashing is the only await before
    // the insert; blocking other events meanwhile keeps joins and leaves in arrival order.
    const { memberId, deviceId } = await this.ctx.blockConcurrencyWhile(async () => ({
      memberId: await this.memberId(socketId),
      deviceId: member.user ? (member.deviceId ?? (await fallbackDeviceIdOf(socketId))) : null,
    }));
    if (scope) this.rememberScope(scope);
    const exists = this.sql.exec("SELECT 1 FROM members WHERE socket_id = ?", socketId).toArray().length > 0;
    if (exists) return { ok: true };
    const named = this.scope()?.room != null;
    if (named && this.size() >= this.presenceConfig.maxMembers) {
      return { ok: false, error: "room_full", message: `the room has reached its limit of ${this.presenceConfig.maxMembers} members` };
    }
    if (member.state !== undefined && jsonBytes(member.state) > this.presenceConfig.maxStateBytes) {
      return { ok: false, error: "state_too_large", message: `presence state is limited to ${this.presenceConfig.maxStateBytes} bytes` };
    }
    const now = Date.now();
    this.sql.exec(
      "INSERT INTO members (socket_id, host, joined_at, user_id, user_name, device_id, state, member_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      socketId,
      host,
      now,
      member.user?.id ?? null,
      member.user?.name ?? null,
      deviceId,
      member.state === undefined ? null : JSON.stringify(member.state),
      memberId,
    );
    if (member.user) await this.reconcile(member.user.id, now);
    await this.scheduleAlarm();
    return { ok: true };
  }

  async leave(socketId: string): Promise<void> {
    const row = this.member(socketId);
    if (!row) return;
    this.sql.exec("DELETE FROM members WHERE socket_id = ?", socketId);
    if (row.user_id) await this.reconcile(row.user_id, Date.now());
    await this.scheduleAlarm();
  }

  /** Replaces a member's custom state; the room hears `presence:update`. */
  async setState(
    socketId: string,
    state: unknown,
  ): Promise<{ ok: true } | { ok: false; error: "not_member" | "state_too_large"; message: string }> {
    const row = this.member(socketId);
    if (!row?.user_id) return { ok: false, error: "not_member", message: "the socket is not a presence member of this room" };
    if (jsonBytes(state) > this.presenceConfig.maxStateBytes) {
      return { ok: false, error: "state_too_large", message: `presence state is limited to ${this.presenceConfig.maxStateBytes} bytes` };
    }
    this.sql.exec("UPDATE members SET state = ? WHERE socket_id = ?", JSON.stringify(state ?? null), socketId);
    if (this.isAnnounced(row.user_id)) this.announceUpdate(row.user_id);
    return { ok: true };
  }

  /** The hosts that currently have at least one member: the fan-out list. */
  hosts(): string[] {
    return this.sql
      .exec<{ host: string }>("SELECT DISTINCT host FROM members")
      .toArray()
      .map((row) => row.host);
  }

  size(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM members").one().n;
  }

  // ════════════════════════════ presence queries ════════════════════════════
  /** Current presence (live connections, grouped per user) and counts. */
  presence(): PresenceSnapshot {
    const rows = this.sql.exec<MemberRow>("SELECT * FROM members WHERE user_id IS NOT NULL ORDER BY joined_at, socket_id").toArray();
    return snapshotOf(rows, this.size());
  }

  // ════════════════════════════ edges ════════════════════════════
  private scope(): RoomScope | null {
    const value = this.meta.get("scope");
    return value ? (JSON.parse(value) as RoomScope) : null;
  }

  private rememberScope(scope: RoomScope): void {
    this.meta.setIfAbsent("scope", JSON.stringify(scope));
  }

  /** Named rooms announce presence; the namespace room and silent rooms (user:* by default) do not. */
  private announcing(): (RoomScope & { room: string }) | null {
    const scope = this.scope();
    if (!scope || scope.room === null) return null;
    const room = scope.room;
    if (this.presenceConfig.silentRooms.some((pattern) => matchesPattern(pattern, room))) return null;
    return { nsp: scope.nsp, room };
  }

  private member(socketId: string): MemberRow | undefined {
    return this.sql.exec<MemberRow>("SELECT * FROM members WHERE socket_id = ?", socketId).toArray()[0];
  }

  private isAnnounced(userId: string): boolean {
    return this.sql.exec("SELECT 1 FROM announced_users WHERE user_id = ?", userId).toArray().length > 0;
  }

  /**
   * Brings what the room has announced about `userId` in line with its live connections,
   * honouring the grace period. Idempotent: each edge is announced exactly once.
   */
  private async reconcile(userId: string, now: number): Promise<void> {
    const scope = this.announcing();
    if (!scope) return;
    const grace = this.presenceConfig.graceMs;
    const live = this.sql.exec<MemberRow>("SELECT * FROM members WHERE user_id = ?", userId).toArray();
    const announced = this.sql
      .exec<{ name: string; leave_due: number | null }>("SELECT name, leave_due FROM announced_users WHERE user_id = ?", userId)
      .toArray()[0];

    if (live.length === 0) {
      if (!announced) return;
      const due = announced.leave_due ?? now + grace;
      if (announced.leave_due === null) this.sql.exec("UPDATE announced_users SET leave_due = ? WHERE user_id = ?", due, userId);
      if (due > now) return;
      this.sql.exec("DELETE FROM announced_users WHERE user_id = ?", userId);
      this.sql.exec("DELETE FROM announced_devices WHERE user_id = ?", userId);
      const user = { id: userId, name: announced.name };
      const vacated = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM announced_users").one().n === 0;
      this.announce("presence:leave", { room: scope.room, user }, []);
      await queueWebhook(this.env, "member.removed", { nsp: scope.nsp, room: scope.room, user });
      if (vacated) await queueWebhook(this.env, "room.vacated", { nsp: scope.nsp, room: scope.room });
      return;
    }

    const user: PresenceUser = { id: userId, name: live[0].user_name ?? userId };
    const liveDevices = new Set(live.map((row) => row.device_id!));
    if (!announced) {
      const occupied = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM announced_users").one().n === 0;
      this.sql.exec("INSERT INTO announced_users (user_id, name, leave_due) VALUES (?, ?, NULL)", userId, user.name);
      for (const device of liveDevices) this.sql.exec("INSERT INTO announced_devices (user_id, device_id) VALUES (?, ?)", userId, device);
      // The user's own connections learn the room's presence from their join ack.
      this.announce(
        "presence:join",
        { room: scope.room, user, metas: live.map(metaOf) },
        live.map((row) => row.socket_id),
      );
      if (occupied) await queueWebhook(this.env, "room.occupied", { nsp: scope.nsp, room: scope.room });
      await queueWebhook(this.env, "member.added", { nsp: scope.nsp, room: scope.room, user });
      return;
    }

    // Back within the grace period (a reload): nothing to say.
    if (announced.leave_due !== null) this.sql.exec("UPDATE announced_users SET leave_due = NULL WHERE user_id = ?", userId);
    let changed = false;
    const devices = this.sql
      .exec<{ device_id: string; leave_due: number | null }>("SELECT device_id, leave_due FROM announced_devices WHERE user_id = ?", userId)
      .toArray();
    const known = new Set(devices.map((d) => d.device_id));
    for (const device of liveDevices) {
      if (known.has(device)) continue;
      this.sql.exec("INSERT INTO announced_devices (user_id, device_id) VALUES (?, ?)", userId, device);
      changed = true;
    }
    for (const device of devices) {
      if (liveDevices.has(device.device_id)) {
        if (device.leave_due !== null)
          this.sql.exec("UPDATE announced_devices SET leave_due = NULL WHERE user_id = ? AND device_id = ?", userId, device.device_id);
        continue;
      }
      const due = device.leave_due ?? now + grace;
      if (device.leave_due === null)
        this.sql.exec("UPDATE announced_devices SET leave_due = ? WHERE user_id = ? AND device_id = ?", due, userId, device.device_id);
      if (due > now) continue;
      this.sql.exec("DELETE FROM announced_devices WHERE user_id = ? AND device_id = ?", userId, device.device_id);
      changed = true;
    }
    if (changed) this.announceUpdate(userId);
  }

  private announceUpdate(userId: string): void {
    const scope = this.announcing();
    if (!scope) return;
    const live = this.sql.exec<MemberRow>("SELECT * FROM members WHERE user_id = ? ORDER BY joined_at, socket_id", userId).toArray();
    if (live.length === 0) return;
    const user = { id: userId, name: live[0].user_name ?? userId };
    this.announce("presence:update", { room: scope.room, user, metas: live.map(metaOf) }, []);
  }

  /** Sends an event to the room (minus `except`), in decision order, one call per host. */
  private announce(event: string, payload: unknown, except: string[]): void {
    const scope = this.announcing();
    if (!scope) return;
    const hosts = this.hosts();
    if (hosts.length === 0) return;
    const op = eventOp({ nsp: scope.nsp, rooms: [scope.room], except }, event, payload);
    this.announceInOrder(() => clusterOf(this.env).applyOn(hosts, op));
  }

  // ════════════════════════════ the alarm: grace and lease ════════════════════════════
  protected async applyDeadlines(now: number): Promise<void> {
    const due = this.sql
      .exec<{ user_id: string }>(
        `SELECT user_id FROM announced_users WHERE leave_due IS NOT NULL AND leave_due <= ?1
         UNION SELECT user_id FROM announced_devices WHERE leave_due IS NOT NULL AND leave_due <= ?1`,
        now,
      )
      .toArray();
    for (const { user_id } of due) await this.reconcile(user_id, now);
  }

  protected async checkLeases(now: number): Promise<void> {
    const rows = this.sql
      .exec<{ socket_id: string; host: string; joined_at: number }>(
        "SELECT socket_id, host, joined_at FROM members WHERE joined_at <= ?",
        now,
      )
      .toArray();
    if (rows.length === 0) return;
    const dead = await deadSockets(this.env, rows);
    const users = new Set<string>();
    for (const socketId of dead) {
      const row = this.member(socketId);
      if (!row || row.joined_at > now) continue;
      this.sql.exec("DELETE FROM members WHERE socket_id = ?", socketId);
      if (row.user_id) users.add(row.user_id);
    }
    for (const user of users) await this.reconcile(user, Date.now());
  }

  protected async scheduleAlarm(): Promise<void> {
    const due = this.sql
      .exec<{ at: number | null }>(
        "SELECT MIN(at) AS at FROM (SELECT leave_due AS at FROM announced_users UNION ALL SELECT leave_due AS at FROM announced_devices)",
      )
      .one().at;
    await this.schedule.schedule([due], this.size() > 0);
  }
}
