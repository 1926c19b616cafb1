/**
 * UserDO: one per user id. Every live connection of the user (socket id, namespace, device,
 * host, connect time), on every tab and device. Online/offline is announced per device and per
 * user only on the edges (first connection, last disconnection), the latter after the grace
 * period, so a page reload does not flap. A lease checked by the alarm against the hosts'
 * `aliveSockets` removes connections whose host never reported the disconnect.
 *
 * Device edges reach the user's other connections as `user:device:online` / `user:device:offline`
 * ({ user, deviceId }); user edges become `user.online` / `user.offline` webhooks.
 */
import { DurableObject } from "cloudflare:workers";
import { setAlarmAt } from "./alarm";
import { presenceConfigFrom, type PresenceConfig } from "./presence/config";
import { hostStub, type EdgeioBindings } from "./bindings";
import { deadSockets, emitOnHosts, groupByHost } from "./presence/deliver";
import { fallbackDeviceIdOf } from "./presence/ids";
import { PresenceUserSchema, type PresenceUser } from "./presence/types";
import { queueWebhook } from "./webhooks/queue";
import { z } from "zod";

export interface UserConnection {
  socketId: string;
  nsp: string;
  deviceId: string;
  host: string;
  connectedAt: number;
}

export interface UserInfo {
  id: string | null;
  name: string | null;
  online: boolean;
  devices: Array<{ deviceId: string; connections: number }>;
  connections: number;
}

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
  [key: string]: SqlStorageValue;
}

type Env = EdgeioBindings & Record<string, unknown>;

export class UserDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly presenceConfig: PresenceConfig;
  private announcements: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.presenceConfig = presenceConfigFrom(env);
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS connections (
        socket_id TEXT PRIMARY KEY,
        nsp TEXT NOT NULL,
        device_id TEXT NOT NULL,
        host TEXT NOT NULL,
        connected_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS devices (device_id TEXT PRIMARY KEY, leave_due INTEGER);
      CREATE TABLE IF NOT EXISTS user_meta (key TEXT PRIMARY KEY, value TEXT);
    `);
  }

  // ════════════════════════════ connections (called by the app on connect/disconnect) ════════════════════════════
  async addConnection(input: ConnectInput): Promise<void> {
    const c = ConnectInput.parse(input);
    // Device ids reach the user's other connections (user:device:*), so never a socket id.
    // Blocking other events while hashing keeps connects and disconnects in arrival order.
    const deviceId = c.deviceId ?? (await this.ctx.blockConcurrencyWhile(() => fallbackDeviceIdOf(c.socketId)));
    this.setMeta("id", c.user.id);
    this.setMeta("name", c.user.name);
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
      .exec<{ device_id: string; n: number }>("SELECT device_id, COUNT(*) AS n FROM connections GROUP BY device_id ORDER BY MIN(connected_at)")
      .toArray()
      .map((row) => ({ deviceId: row.device_id, connections: row.n }));
    return {
      id: this.getMeta("id") ?? id ?? null,
      name: this.getMeta("name"),
      online: this.getMeta("online") === "1",
      devices,
      connections: devices.reduce((sum, d) => sum + d.connections, 0),
    };
  }

  isOnline(): boolean {
    return this.getMeta("online") === "1";
  }

  connections(): UserConnection[] {
    return this.rows().map((row) => ({
      socketId: row.socket_id,
      nsp: row.nsp,
      deviceId: row.device_id,
      host: row.host,
      connectedAt: row.connected_at,
    }));
  }

  /** Emits to every connection of the user exactly once: one call per host, each selecting by socket id. */
  async emit(event: string, payload: unknown): Promise<number> {
    const rows = this.rows();
    await Promise.all(
      [...this.byHostAndNsp(rows)].map(([key, ids]) => {
        const [host, nsp] = JSON.parse(key) as [string, string];
        return emitOnHosts(this.env, [host], { nsp, rooms: ids, except: [] }, event, payload);
      }),
    );
    return rows.length;
  }

  /** Disconnects every connection of the user (`close`: end their whole Engine.IO sessions). */
  async disconnectAll(close = false): Promise<number> {
    const rows = this.rows();
    await Promise.all(
      [...this.byHostAndNsp(rows)].map(([key, ids]) => {
        const [host, nsp] = JSON.parse(key) as [string, string];
        return hostStub(this.env, host)
          .apply({ kind: "disconnect", target: { nsp, rooms: ids, except: [] }, close })
          .catch((error: unknown) => console.error(`edgeio: disconnecting user on ${host} failed`, error));
      }),
    );
    return rows.length;
  }

  // ════════════════════════════ edges ════════════════════════════
  private async reconcile(now: number): Promise<void> {
    const grace = this.presenceConfig.graceMs;
    const rows = this.rows();
    const user = this.user();
    const online = this.getMeta("online") === "1";
    const liveDevices = new Set(rows.map((row) => row.device_id));
    const announced = this.sql.exec<{ device_id: string; leave_due: number | null }>("SELECT device_id, leave_due FROM devices").toArray();

    if (rows.length === 0) {
      if (!online) return;
      const offlineDue = this.getMeta("offline_due");
      const due = offlineDue === null ? now + grace : Number(offlineDue);
      if (offlineDue === null) this.setMeta("offline_due", String(due));
      if (due > now) return;
      this.setMeta("online", "0");
      this.setMeta("offline_due", null);
      this.sql.exec("DELETE FROM devices");
      await queueWebhook(this.env, "user.offline", { user });
      return;
    }

    this.setMeta("offline_due", null);
    if (!online) {
      this.setMeta("online", "1");
      this.sql.exec("DELETE FROM devices");
      for (const device of liveDevices) this.sql.exec("INSERT INTO devices (device_id) VALUES (?)", device);
      await queueWebhook(this.env, "user.online", { user, devices: [...liveDevices] });
      return;
    }
    const known = new Set(announced.map((d) => d.device_id));
    for (const device of liveDevices) {
      if (known.has(device)) continue;
      this.sql.exec("INSERT INTO devices (device_id) VALUES (?)", device);
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
      this.announce(rows, "user:device:offline", { user, deviceId: device.device_id });
    }
  }

  private announce(rows: ConnectionRow[], event: string, payload: unknown): void {
    if (rows.length === 0) return;
    const groups = [...this.byHostAndNsp(rows)];
    const run = this.announcements.then(() =>
      Promise.all(
        groups.map(([key, ids]) => {
          const [host, nsp] = JSON.parse(key) as [string, string];
          return emitOnHosts(this.env, [host], { nsp, rooms: ids, except: [] }, event, payload);
        }),
      ),
    );
    this.announcements = run.catch(() => undefined);
    this.ctx.waitUntil(run);
  }

  // ════════════════════════════ the alarm: grace and lease ════════════════════════════
  async alarm(): Promise<void> {
    const now = Date.now();
    try {
      await this.reconcile(now);
      const nextLease = this.getMeta("next_lease_at");
      if (nextLease !== null && Number(nextLease) <= now) {
        this.setMeta("next_lease_at", String(now + this.presenceConfig.leaseMs));
        const rows = this.rows().filter((row) => row.connected_at <= now);
        const dead = await deadSockets(this.env, groupByHost(rows));
        for (const socketId of dead) this.sql.exec("DELETE FROM connections WHERE socket_id = ? AND connected_at <= ?", socketId, now);
        if (dead.length > 0) await this.reconcile(Date.now());
      }
    } finally {
      await this.scheduleAlarm();
    }
  }

  private async scheduleAlarm(): Promise<void> {
    const candidates: number[] = [];
    const deviceDue = this.sql.exec<{ at: number | null }>("SELECT MIN(leave_due) AS at FROM devices").one().at;
    if (deviceDue !== null) candidates.push(deviceDue);
    const offlineDue = this.getMeta("offline_due");
    if (offlineDue !== null) candidates.push(Number(offlineDue));
    if (this.rows().length > 0) {
      let nextLease = this.getMeta("next_lease_at");
      if (nextLease === null) {
        nextLease = String(Date.now() + this.presenceConfig.leaseMs);
        this.setMeta("next_lease_at", nextLease);
      }
      candidates.push(Number(nextLease));
    } else {
      this.setMeta("next_lease_at", null);
    }
    const next = candidates.length > 0 ? Math.min(...candidates) : null;
    await setAlarmAt(this.ctx.storage, next);
  }

  // ════════════════════════════ storage helpers ════════════════════════════
  private rows(): ConnectionRow[] {
    return this.sql.exec<ConnectionRow>("SELECT * FROM connections ORDER BY connected_at, socket_id").toArray();
  }

  private user(): PresenceUser {
    const id = this.getMeta("id") ?? "";
    return { id, name: this.getMeta("name") ?? id };
  }

  private byHostAndNsp(rows: ConnectionRow[]): Map<string, string[]> {
    const groups = new Map<string, string[]>();
    for (const row of rows) {
      const key = JSON.stringify([row.host, row.nsp]);
      groups.set(key, [...(groups.get(key) ?? []), row.socket_id]);
    }
    return groups;
  }

  private getMeta(key: string): string | null {
    return this.sql.exec<{ value: string | null }>("SELECT value FROM user_meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  private setMeta(key: string, value: string | null): void {
    if (value === null) this.sql.exec("DELETE FROM user_meta WHERE key = ?", key);
    else this.sql.exec("INSERT OR REPLACE INTO user_meta (key, value) VALUES (?, ?)", key, value);
  }
}
