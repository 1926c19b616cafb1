/**
 * Rooms no socket may join, whatever the app's handlers ask: another socket's own-id room
 * (its private channel: `to(socketId)`, HTTP API emits and UserDO announcements go there) and
 * another user's `user:<id>` room. A core rule, so no join policy can open them by mistake.
 */
import { hostOfSocketId } from "../../protocol/ids";

export const USER_ROOM_PREFIX = "user:";

/** The room of a user's connections (every tab and device). */
export function userRoom(userId: string): string {
  return `${USER_ROOM_PREFIX}${userId}`;
}

export interface RoomJoiner {
  /** The joining socket's id. */
  id: string;
  /** The authenticated user id (`socket.data.user.id`), if any. */
  userId?: string;
}

/** Why `socket` may not join `room`, or null when it may. */
export function privateRoomRefusal(socket: RoomJoiner, room: string): string | null {
  if (room === socket.id) return null;
  if (hostOfSocketId(room) !== null) return "rooms named like a socket id are private to that socket";
  if (room.startsWith(USER_ROOM_PREFIX) && (socket.userId === undefined || room !== userRoom(socket.userId))) {
    return "user rooms are private to their user";
  }
  return null;
}

/** The user id a socket authenticated as, from the conventional `socket.data.user.id`. */
export function userIdOf(data: unknown): string | undefined {
  const id = (data as { user?: { id?: unknown } } | null | undefined)?.user?.id;
  return typeof id === "string" ? id : undefined;
}
