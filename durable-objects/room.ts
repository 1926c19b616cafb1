/**
 * RoomDO: one per (namespace, room). Keeps which ConnectionHosts have members and how many
 * (room-hosts.ts), so a broadcast costs one call per host that has members, never one per
 * socket; per-socket membership stays on the hosts. `room = null` is the namespace's
 * directory: the hosts that have sockets in the namespace. Hosts tell a room only on their
 * 0→1 / 1→0 edges, plus one lease renewal per lease period from their heartbeat alarm.
 *
 * Presence: a member whose socket has `data.user` is a presence entry (user, device, joined
 * at, small state), told to the room per connection. Entries are aggregated per user;
 * `presence:join` / `presence:leave` go to the room only on a user's first connection / after
 * its last one has been gone for the grace period, `presence:update` when a device comes or
 * goes or state changes. Liveness is a host-level lease: each renewal lists the host's
 * presence members (anything else of that host is a ghost), and a host that stops renewing
 * (3 lease periods) is dropped with its members. The room never calls a host to ask, so no
 * hibernated host is woken for presence.
 */
import { clusterOf, eventOp } from "./cluster/cluster";
import { matchesPattern } from "./presence/config";
import { StatsAggregatorObject, type PresenceEnv } from "./stats/aggregator-object";
import { fallbackDeviceIdOf, memberIdOf } from "./presence/ids";
import { jsonBytes, MemberMetaSchema } from "./presence/types";
import type { JoinResult, MemberMeta, PresenceSnapshot, RoomScope, RoomStats } from "./presence/types";

export type { RoomScope, RoomStats } from "./presence/types";
import { backfillMemberIds, memberIdsOfHost, metaOf, presencePage, removeUnlisted } from "./presence/room-members";
import { ROOM_SCHEMA, upgradeMemberTable, type MemberRow } from "./presence/room-members";
import { LeaseReportSchema, ROOM_HOSTS_SCHEMA, RoomHosts, type LeaseReport } from "./presence/room-hosts";
import { reconcileAnnounced } from "./presence/room-announced";
import { ROOM_SUBSCRIBERS_SCHEMA, RoomSubscribers } from "./presence/room-subscribers";
import { RoomKeySchema, type RoomHostsAnswer } from "./cluster/room-hosts-cache";
import { withTimeout } from "./cluster/apply";
import { hostStub } from "./bindings";
import type { LifecycleHooks } from "./lifecycle/types";

/** Clock slack between a host and a room: a member that joined this close to a renewal is kept. */
const RENEWAL_SLACK_MS = 2_000;
/** How long a join waits at most for a host keeping a copy of the host list to drop it. */
const NOTICE_TIMEOUT_MS = 5_000;

export class RoomDO extends StatsAggregatorObject {
  private readonly roomHosts: RoomHosts;
  /** Hosts keeping a copy of the host list (cluster/room-hosts-cache.ts): told before a host is added. */
  private readonly subscribers: RoomSubscribers;
  private readonly calls: Record<string, number> = {};

  constructor(ctx: DurableObjectState, env: PresenceEnv, hooks?: LifecycleHooks) {
    super(ctx, env, { schema: ROOM_SCHEMA + ROOM_HOSTS_SCHEMA + ROOM_SUBSCRIBERS_SCHEMA, metaTable: "room_meta" }, hooks);
    this.roomHosts = new RoomHosts(this.sql);
    this.subscribers = new RoomSubscribers(this.sql);
    upgradeMemberTable(this.sql);
    // Rooms stored before host-level membership: their per-socket rows become host rows.
    this.roomHosts.migrateFromMembers(Date.now());
    // Members stored before member ids existed: give them one (and no socket id as device id).
    void ctx.blockConcurrencyWhile(() => backfillMemberIds(this.sql, (socketId) => this.memberId(socketId)));
  }

  private memberId(socketId: string): Promise<string> {
    return memberIdOf(this.ctx.id.toString(), socketId);
  }

  private count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }

  // ════════════════════════════ hosts (ConnectionHost RPC, on edges and renewals) ════════════════════════════
  /** The host got its first socket here (no presence: presence members come through `join`). */
  async addHost(host: string, scope?: RoomScope): Promise<void> {
    this.count("addHost");
    if (scope) this.rememberScope(scope);
    if (this.roomHosts.add(host, Date.now())) await this.hostAdded(host);
    await this.scheduleAlarm();
  }

  /** The host has no socket here any more: its row and any presence member it still had go. */
  async removeHost(host: string): Promise<void> {
    this.count("removeHost");
    await this.dropHosts([host]);
    await this.scheduleAlarm();
  }

  /**
   * A host's lease renewal: its socket count here and its presence members. Presence members
   * of that host missing from the list (and older than the report) are ghosts and leave.
   * Answers the listed members the room does not have (lost joins, or a host dropped after
   * missed renewals), so the host can join them again.
   */
  async renew(host: string, report: LeaseReport, scope?: RoomScope): Promise<{ missing: string[] }> {
    this.count("renew");
    const parsed = LeaseReportSchema.parse(report);
    if (scope) this.rememberScope(scope);
    if (this.roomHosts.renew(host, parsed.sockets, Date.now())) await this.hostAdded(host);
    const listed = new Set(parsed.presence);
    const joinedBefore = parsed.asOf - Math.min(RENEWAL_SLACK_MS, this.presenceConfig.leaseMs / 2);
    for (const user of removeUnlisted(this.sql, host, listed, joinedBefore)) await this.reconcile(user, Date.now());
    await this.scheduleAlarm();
    if (listed.size === 0) return { missing: [] };
    const known = memberIdsOfHost(this.sql, host);
    return { missing: parsed.presence.filter((id) => !known.has(id)) };
  }

  // ════════════════════════════ presence members (ConnectionHost RPC, per presence connection) ════════════════════════════
  /**
   * Adds a presence member (`meta.user`) and makes sure its host is listed. `scope` names the
   * room so presence events can be sent into it. Refuses beyond ROOM_MAX_MEMBERS if set.
   */
  async join(socketId: string, host: string, meta: MemberMeta = {}, scope?: RoomScope): Promise<JoinResult> {
    this.count("join");
    const parsed = MemberMetaSchema.safeParse(meta);
    const member = parsed.success ? parsed.data : {};
    // Presence never shows a socket id (see presence/ids.ts). Hashing is the only await before
    // the insert; blocking other events meanwhile keeps joins and leaves in arrival order.
    const { memberId, deviceId } = await this.ctx.blockConcurrencyWhile(async () => ({
      memberId: await this.memberId(socketId),
      deviceId: member.user ? (member.deviceId ?? (await fallbackDeviceIdOf(socketId))) : null,
    }));
    if (scope) this.rememberScope(scope);
    const now = Date.now();
    if (!member.user) {
      // Not a presence member: only its host matters here.
      if (this.roomHosts.add(host, now)) await this.hostAdded(host);
      await this.scheduleAlarm();
      return { ok: true };
    }
    const exists = this.sql.exec("SELECT 1 FROM members WHERE socket_id = ?", socketId).toArray().length > 0;
    if (exists) return { ok: true };
    const cap = this.presenceConfig.maxMembers;
    if (cap !== null && this.scope()?.room != null && this.presenceConnections() >= cap) {
      return { ok: false, error: "room_full", message: `the room has reached its limit of ${cap} members` };
    }
    if (member.state !== undefined && jsonBytes(member.state) > this.presenceConfig.maxStateBytes) {
      return { ok: false, error: "state_too_large", message: `presence state is limited to ${this.presenceConfig.maxStateBytes} bytes` };
    }
    const added = this.roomHosts.add(host, now);
    this.sql.exec(
      "INSERT INTO members (socket_id, host, joined_at, user_id, user_name, device_id, state, member_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      socketId,
      host,
      now,
      member.user.id,
      member.user.name,
      deviceId,
      member.state === undefined ? null : JSON.stringify(member.state),
      memberId,
    );
    if (added) await this.hostAdded(host);
    await this.reconcile(member.user.id, now);
    await this.scheduleAlarm();
    return { ok: true };
  }

  /** A presence member left; `lastOfHost`: it was its host's last socket here (the host's row goes too). */
  async leave(socketId: string, lastOfHost?: string): Promise<void> {
    this.count("leave");
    const row = this.member(socketId);
    if (row) {
      this.sql.exec("DELETE FROM members WHERE socket_id = ?", socketId);
      if (row.user_id) await this.reconcile(row.user_id, Date.now());
    }
    if (lastOfHost) await this.dropHosts([lastOfHost]);
    await this.scheduleAlarm();
  }

  /** Replaces a member's custom state; the room hears `presence:update`. */
  async setState(
    socketId: string,
    state: unknown,
  ): Promise<{ ok: true } | { ok: false; error: "not_member" | "state_too_large"; message: string }> {
    this.count("setState");
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
    this.count("hosts");
    return this.roomHosts.list();
  }
  /**
   * The fan-out list for a host that keeps a copy (cluster/room-hosts-cache.ts): `subscriber`
   * is recorded (durably) and told before any host is added, under `key`.
   */
  cachedHosts(subscriber: string, key: string): RoomHostsAnswer {
    this.count("cachedHosts");
    const cacheable = this.subscribers.subscribe(subscriber, RoomKeySchema.parse(key), Date.now());
    return { hosts: this.roomHosts.list(), cacheable };
  }

  /**
   * A host was added: every host keeping a copy of the list drops it before this returns (so
   * before the join that added it is acked). One that does not answer is logged; its copy
   * lapses within HOSTS_CACHE_TTL_MS.
   */
  private async hostAdded(host: string): Promise<void> {
    const subscribers = this.subscribers.live(Date.now(), host);
    if (subscribers.length === 0) return;
    this.count("invalidations");
    const outcomes = await Promise.all(
      subscribers.map(({ host: subscriber, key }) => withTimeout(hostStub(this.env, subscriber).roomHostsChanged(key), NOTICE_TIMEOUT_MS)),
    );
    outcomes.forEach((outcome, i) => {
      if (!outcome.ok) console.error(`edgeio: telling host ${subscribers[i].host} of a new room host failed: ${outcome.error}`);
    });
  }

  /** Sockets in the room as the hosts last reported them (edges and renewals). */
  size(): number {
    return this.roomHosts.sockets();
  }
  stats(): RoomStats {
    return { calls: { ...this.calls }, hosts: this.roomHosts.count(), presenceConnections: this.presenceConnections() };
  }

  private presenceConnections(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM members").one().n;
  }

  /** Removes hosts and every presence member they had; the users concerned are reconciled. */
  private async dropHosts(hosts: string[]): Promise<void> {
    const users = new Set<string>();
    for (const host of hosts) {
      this.roomHosts.remove(host);
      const gone = this.sql.exec<{ user_id: string | null }>("DELETE FROM members WHERE host = ? RETURNING user_id", host).toArray();
      for (const row of gone) if (row.user_id) users.add(row.user_id);
    }
    for (const user of users) await this.reconcile(user, Date.now());
  }

  // ════════════════════════════ presence queries ════════════════════════════
  /** Current presence (live connections grouped per user), one page of users, with exact counts. */
  presence(page: { limit?: number; cursor?: string } = {}): PresenceSnapshot {
    this.count("presence");
    return presencePage(this.sql, page.limit, page.cursor);
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
   * honouring the grace period. Idempotent: each edge is announced exactly once (presence/room-announced.ts).
   */
  private async reconcile(userId: string, now: number): Promise<void> {
    const scope = this.announcing();
    if (!scope) return;
    const room = {
      sql: this.sql,
      graceMs: this.presenceConfig.graceMs,
      announce: this.announce.bind(this),
      announceUpdate: this.announceUpdate.bind(this),
      edge: this.edge.bind(this),
    };
    await reconcileAnnounced(room, scope, userId, now);
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
    const hosts = this.roomHosts.list();
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

  /** Hosts that stopped renewing (3 renewals missed, see leaseExpiryMs) are dropped with their presence members. */
  protected async checkLeases(now: number): Promise<void> {
    const expired = this.roomHosts.expired(now - this.leaseExpiryMs);
    if (expired.length === 0) return;
    console.warn(`edgeio: room lease expired for host(s) ${expired.join(", ")}`);
    await this.dropHosts(expired);
  }

  protected async scheduleAlarm(): Promise<void> {
    const due = this.sql
      .exec<{ at: number | null }>(
        "SELECT MIN(at) AS at FROM (SELECT leave_due AS at FROM announced_users UNION ALL SELECT leave_due AS at FROM announced_devices)",
      )
      .one().at;
    await this.schedule.schedule([due, this.hookRuns.nextDue()], this.roomHosts.count() > 0);
  }
}
