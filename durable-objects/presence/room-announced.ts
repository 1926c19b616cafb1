/**
 * What a RoomDO has announced about each user (tables announced_users, announced_devices),
 * brought in line with the user's live presence members: the presence:join / leave / update
 * events and the member and room lifecycle edges, each exactly once, honouring the grace
 * period. Moved out of room.ts (which keeps the RPC entry points and the alarm) so the
 * announcement rules read on their own; the room passes what it sends through.
 */
import type { LifecycleEvents, LifecycleHookName } from "../lifecycle/types";
import type { WebhookEventType } from "../webhooks/queue";
import { metaOf, type MemberRow } from "./room-members";
import type { PresenceUser, RoomScope } from "./types";

/** What reconciling needs of the room: its SQLite, grace period and ways to announce. */
export type AnnouncingRoom = {
  sql: SqlStorage;
  graceMs: number;
  /** Sends an event to the room (minus `except`), in decision order. */
  announce(event: string, payload: unknown, except: string[]): void;
  /** Sends `presence:update` with the user's live members. */
  announceUpdate(userId: string): void;
  /** Records and runs a lifecycle edge (and queues its webhook). */
  edge<K extends LifecycleHookName>(hook: K, event: LifecycleEvents[K], webhook?: WebhookEventType): Promise<void>;
};

/**
 * Brings what the room has announced about `userId` in line with its live connections,
 * honouring the grace period. Idempotent: each edge is announced exactly once. `scope`: the
 * announcing room (named, not silent).
 */
export async function reconcileAnnounced(
  room: AnnouncingRoom,
  scope: RoomScope & { room: string },
  userId: string,
  now: number,
): Promise<void> {
  const grace = room.graceMs;
  const live = room.sql.exec<MemberRow>("SELECT * FROM members WHERE user_id = ?", userId).toArray();
  const announced = room.sql
    .exec<{ name: string; leave_due: number | null }>("SELECT name, leave_due FROM announced_users WHERE user_id = ?", userId)
    .toArray()[0];

  if (live.length === 0) {
    if (!announced) return;
    const due = announced.leave_due ?? now + grace;
    if (announced.leave_due === null) room.sql.exec("UPDATE announced_users SET leave_due = ? WHERE user_id = ?", due, userId);
    if (due > now) return;
    room.sql.exec("DELETE FROM announced_users WHERE user_id = ?", userId);
    room.sql.exec("DELETE FROM announced_devices WHERE user_id = ?", userId);
    const user = { id: userId, name: announced.name };
    const vacated = room.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM announced_users").one().n === 0;
    room.announce("presence:leave", { room: scope.room, user }, []);
    await room.edge("memberRemoved", { nsp: scope.nsp, room: scope.room, user }, "member.removed");
    if (vacated) await room.edge("roomVacated", { nsp: scope.nsp, room: scope.room }, "room.vacated");
    return;
  }

  const user: PresenceUser = { id: userId, name: live[0].user_name ?? userId };
  const liveDevices = new Set(live.map((row) => row.device_id!));
  if (!announced) {
    const occupied = room.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM announced_users").one().n === 0;
    room.sql.exec("INSERT INTO announced_users (user_id, name, leave_due) VALUES (?, ?, NULL)", userId, user.name);
    for (const device of liveDevices) room.sql.exec("INSERT INTO announced_devices (user_id, device_id) VALUES (?, ?)", userId, device);
    // The user's own connections learn the room's presence from their join ack.
    room.announce(
      "presence:join",
      { room: scope.room, user, metas: live.map(metaOf) },
      live.map((row) => row.socket_id),
    );
    if (occupied) await room.edge("roomOccupied", { nsp: scope.nsp, room: scope.room }, "room.occupied");
    await room.edge("memberAdded", { nsp: scope.nsp, room: scope.room, user }, "member.added");
    return;
  }

  // Back within the grace period (a reload): nothing to say.
  if (announced.leave_due !== null) room.sql.exec("UPDATE announced_users SET leave_due = NULL WHERE user_id = ?", userId);
  let changed = false;
  const devices = room.sql
    .exec<{ device_id: string; leave_due: number | null }>("SELECT device_id, leave_due FROM announced_devices WHERE user_id = ?", userId)
    .toArray();
  const known = new Set(devices.map((d) => d.device_id));
  for (const device of liveDevices) {
    if (known.has(device)) continue;
    room.sql.exec("INSERT INTO announced_devices (user_id, device_id) VALUES (?, ?)", userId, device);
    changed = true;
  }
  for (const device of devices) {
    if (liveDevices.has(device.device_id)) {
      if (device.leave_due !== null)
        room.sql.exec("UPDATE announced_devices SET leave_due = NULL WHERE user_id = ? AND device_id = ?", userId, device.device_id);
      continue;
    }
    const due = device.leave_due ?? now + grace;
    if (device.leave_due === null)
      room.sql.exec("UPDATE announced_devices SET leave_due = ? WHERE user_id = ? AND device_id = ?", due, userId, device.device_id);
    if (due > now) continue;
    room.sql.exec("DELETE FROM announced_devices WHERE user_id = ? AND device_id = ?", userId, device.device_id);
    changed = true;
  }
  if (changed) room.announceUpdate(userId);
}
