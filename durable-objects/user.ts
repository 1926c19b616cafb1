/**
 * UserDO: one per user id. Every live connection of the user (socket id, namespace, device,
 * host, connect time), on every tab and device. Online/offline is announced per device and per
 * user only on the edges (first connection, last disconnection), the latter after the grace
 * period, so a page reload does not flap. Liveness is a host-level lease: hosts renew, from the
 * heartbeat alarm they already run, the user's connections they hold in its `user:<id>` room
 * (one call per host per lease period; any other connection of that host is a ghost). Only a
 * connection nobody renewed for 3 lease periods (an app that registers connections outside the
 * `user:<id>` convention) is checked the old way, by asking its host (`aliveSockets`): a rare
 * fallback, then again only every 3 periods.
 *
 * Device edges reach the user's other connections as `user:device:online` / `user:device:offline`
 * ({ user, deviceId }); user edges become `user.online` / `user.offline` webhooks. The app's
 * lifecycle hooks (userOnline/Offline, deviceConnected/Disconnected) run here, on the same edges.
 */
import { allOf } from "./cluster/apply";
import { clusterOf, eventOp } from "./cluster/cluster";
import { deadSockets } from "./cluster/lease";
import type { Delivery } from "./cluster/types";
import { PresenceObject, type PresenceEnv } from "./presence/presence-object";
import type { HostOp, Target } from "./socketio/types";
import { fallbackDeviceIdOf } from "./presence/ids";
import { PresenceUserSchema, type PresenceUser } from "./presence/types";
import type { LifecycleHooks } from "./lifecycle/types";
import { z } from "zod";

export interface UserInfo {
  id: string | null;
  name: string | null;
  online: boolean;
  devices: Array<{ deviceId: string; connections: number }>;
  connections: number;
}

/** Clock slack between a host and a user object (see RoomDO). */
const RENEWAL_SLACK_MS = 2_000;
const RenewInput = z.array(z.string().min(1).max(256)).max(100_000);

const ConnectInput = z.object({
  socketId: z.string().min(1).max(256),
  nsp: z.string().min(1).max(256),
  deviceId: z.string().min(1).max(128).optional(),
  host: z.string().min(1).max(256),
  user: PresenceUserSchema,
});
export type ConnectInput = z.input<typeof ConnectInput>;

interface ConnectionRow {
  socket_id: string;
  nsp: string;
  device_id: string;
  host: string;
  connected_at: number;
  renewed_at: number | null;
  [key: string]: SqlStorageValue;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS connections (
    socket_id TEXT PRIMARY KEY,
    nsp TEXT NOT NULL,
    device_id TEXT NOT NULL,
    host TEXT NOT NULL,
    connected_at INTEGER NOT NULL,
    renewed_at INTEGER
  );
  CREATE TABLE IF NOT EXISTS devices (device_id TEXT PRIMARY KEY, leave_due INTEGER);
`;

export class UserDO extends PresenceObject {
  constructor(ctx: DurableObjectState, env: PresenceEnv, hooks?: LifecycleHooks) {
    super(ctx, env, { schema: SCHEMA, metaTable: "user_meta" }, hooks);
    // Users stored before host leases: the column is added; their rows count from connected_at.
    const columns = this.sql.exec<{ name: string }>("PRAGMA table_info(connections)").toArray();
    if (!columns.some((c) => c.name === "renewed_at")) this.sql.exec("ALTER TABLE connections ADD COLUMN renewed_at INTEGER");
  }

  /**
   * A host's lease renewal: `socketIds` are the user's connections it holds. Others of that host
   * (older than the report, with a little clock slack) are ghosts and go.
   */
  async renew(host: string, socketIds: string[], asOf: number): Promise<void> {
    const ids = RenewInput.parse(socketIds);
    const now = Date.now();
    this.sql.exec(
      "UPDATE connections SET renewed_at = ? WHERE host = ? AND socket_id IN (SELECT value FROM json_each(?))",
      now,
      host,
      JSON.stringify(ids),
    );
    const listed = new Set(ids);
    const slack = Math.min(RENEWAL_SLACK_MS, this.presenceConfig.leaseMs / 2);
    const ghosts = this.rows().filter((row) => row.host === host && !listed.has(row.socket_id) && row.connected_at < asOf - slack);
    for (const ghost of ghosts) this.sql.exec("DELETE FROM connections WHERE socket_id = ?", ghost.socket_id);
    if (ghosts.length > 0) {
      await this.reconcile(now);
      await this.scheduleAlarm();
    }
  }

  // ════════════════════════════ connections (called by the app on connect/disconnect) ════════════════════════════
  async addConnection(input: ConnectInput): Promise<void> {
    const c = ConnectInput.parse(input);
    // Device ids reach the user's other connections (user:device:*), so never a socket id.
    // Blocking other events while hashing keeps connects and disconnects in arrival order.
    const deviceId = c.deviceId ?? (await this.ctx.blockConcurrencyWhile(() => fallbackDeviceIdOf(c.socketId)));
    this.meta.set("id", c.user.id);
    this.meta.set("name", c.user.name);
    const now = Date.now();
    this.sql.exec(
      "INSERT OR IGNORE INTO connections (socket_id, nsp, device_id, host, connected_at) VALUES (?, ?, ?, ?, ?)",
      c.socketId,
      c.nsp,
      deviceId,
      c.host,
      now,
    );
    await this.reconcile(now);
    await this.scheduleAlarm();
  }

  async removeConnection(socketId: string): Promise<void> {
    this.sql.exec("DELETE FROM connections WHERE socket_id = ?", socketId);
    await this.reconcile(Date.now());
    await this.scheduleAlarm();
  }

  // ════════════════════════════ queries and commands (HTTP API, apps) ════════════════════════════
  info(id?: string): UserInfo {
    const devices = this.sql
      .exec<{ device_id: string; n: number }>(
        "SELECT device_id, COUNT(*) AS n FROM connections GROUP BY device_id ORDER BY MIN(connected_at)",
      )
      .toArray()
      .map((row) => ({ deviceId: row.device_id, connections: row.n }));
    return {
      id: this.meta.get("id") ?? id ?? null,
      name: this.meta.get("name"),
      online: this.meta.get("online") === "1",
      devices,
      connections: devices.reduce((sum, d) => sum + d.connections, 0),
    };
  }

  /** Emits to every connection of the user exactly once (each host selects its own by socket id). */
  async emit(event: string, payload: unknown): Promise<number> {
    const rows = this.rows();
    await this.onConnections(rows, (target) => eventOp(target, event, payload)).results;
    return rows.length;
  }

  /** Disconnects every connection of the user (`close`: end their whole Engine.IO sessions). */
  async disconnectAll(close = false): Promise<number> {
    const rows = this.rows();
    await this.onConnections(rows, (target) => ({ kind: "disconnect", target, close })).results;
    return rows.length;
  }

  // ════════════════════════════ edges ════════════════════════════
  private async reconcile(now: number): Promise<void> {
    const grace = this.presenceConfig.graceMs;
    const rows = this.rows();
    const user = this.user();
    const online = this.meta.get("online") === "1";
    const liveDevices = new Set(rows.map((row) => row.device_id));
    const announced = this.sql.exec<{ device_id: string; leave_due: number | null }>("SELECT device_id, leave_due FROM devices").toArray();

    if (rows.length === 0) {
      if (!online) return;
      const offlineDue = this.meta.get("offline_due");
      const due = offlineDue === null ? now + grace : Number(offlineDue);
      if (offlineDue === null) this.meta.set("offline_due", String(due));
      if (due > now) return;
      this.meta.set("online", "0");
      this.meta.set("offline_due", null);
      // Every device still announced goes with the user (device hooks see each device leave once).
      for (const device of announced) this.hookRuns.record("deviceDisconnected", { user, deviceId: device.device_id });
      this.sql.exec("DELETE FROM devices");
      await this.edge("userOffline", { user }, "user.offline");
      return;
    }

    this.meta.set("offline_due", null);
    if (!online) {
      this.meta.set("online", "1");
      this.sql.exec("DELETE FROM devices");
      for (const device of liveDevices) this.sql.exec("INSERT INTO devices (device_id) VALUES (?)", device);
      const webhook = this.edge("userOnline", { user, devices: [...liveDevices] }, "user.online");
      for (const device of liveDevices) this.hookRuns.record("deviceConnected", { user, deviceId: device });
      await webhook;
      return;
    }
    const known = new Set(announced.map((d) => d.device_id));
    for (const device of liveDevices) {
      if (known.has(device)) continue;
      this.sql.exec("INSERT INTO devices (device_id) VALUES (?)", device);
      this.hookRuns.record("deviceConnected", { user, deviceId: device });
      const others = rows.filter((row) => row.device_id !== device);
      this.announce(others, "user:device:online", { user, deviceId: device });
    }
    for (const device of announced) {
      if (liveDevices.has(device.device_id)) {
        if (device.leave_due !== null) this.sql.exec("UPDATE devices SET leave_due = NULL WHERE device_id = ?", device.device_id);
        continue;
      }
      const due = device.leave_due ?? now + grace;
      if (device.leave_due === null) this.sql.exec("UPDATE devices SET leave_due = ? WHERE device_id = ?", due, device.device_id);
      if (due > now) continue;
      this.sql.exec("DELETE FROM devices WHERE device_id = ?", device.device_id);
      this.hookRuns.record("deviceDisconnected", { user, deviceId: device.device_id });
      this.announce(rows, "user:device:offline", { user, deviceId: device.device_id });
    }
  }

  private announce(rows: ConnectionRow[], event: string, payload: unknown): void {
    if (rows.length === 0) return;
    this.announceInOrder(() => this.onConnections(rows, (target) => eventOp(target, event, payload)));
  }

  /** Applies an operation to exactly `rows`: per namespace, on the hosts holding them, targeting their socket ids. */
  private onConnections(rows: ConnectionRow[], opFor: (target: Target) => HostOp): Delivery {
    const cluster = clusterOf(this.env);
    const byNsp = new Map<string, ConnectionRow[]>();
    for (const row of rows) byNsp.set(row.nsp, [...(byNsp.get(row.nsp) ?? []), row]);
    return allOf(
      [...byNsp].map(([nsp, group]) =>
        cluster.applyOn(
          group.map((row) => row.host),
          opFor({ nsp, rooms: group.map((row) => row.socket_id), except: [] }),
        ),
      ),
    );
  }

  // ════════════════════════════ the alarm: grace and lease ════════════════════════════
  protected applyDeadlines(now: number): Promise<void> {
    return this.reconcile(now);
  }

  /** The fallback: connections no host renewed for 3 renewals (see leaseExpiryMs) are checked with their host. */
  protected async checkLeases(now: number): Promise<void> {
    const stale = now - this.leaseExpiryMs;
    const rows = this.rows().filter((row) => (row.renewed_at ?? row.connected_at) < stale);
    if (rows.length === 0) return;
    const dead = new Set(await deadSockets(this.env, rows));
    for (const row of rows) {
      if (dead.has(row.socket_id)) this.sql.exec("DELETE FROM connections WHERE socket_id = ? AND connected_at <= ?", row.socket_id, now);
      else this.sql.exec("UPDATE connections SET renewed_at = ? WHERE socket_id = ?", now, row.socket_id);
    }
    if (dead.size > 0) await this.reconcile(Date.now());
  }

  protected async scheduleAlarm(): Promise<void> {
    const deviceDue = this.sql.exec<{ at: number | null }>("SELECT MIN(leave_due) AS at FROM devices").one().at;
    await this.schedule.schedule([deviceDue, this.meta.number("offline_due"), this.hookRuns.nextDue()], this.rows().length > 0);
  }

  // ════════════════════════════ storage helpers ════════════════════════════
  private rows(): ConnectionRow[] {
    return this.sql.exec<ConnectionRow>("SELECT * FROM connections ORDER BY connected_at, socket_id").toArray();
  }

  private user(): PresenceUser {
    const id = this.meta.get("id") ?? "";
    return { id, name: this.meta.get("name") ?? id };
  }
}
