/**
 * Room, user and presence helpers for app code (handlers and HTTP routes): what the HTTP API's
 * `GET /v1/rooms/{room}/presence` and `GET /v1/users/{id}` answer, without going through HTTP,
 * and `trackUser`, which makes a connection its user's (as the default app does).
 * `env` is the Worker's or the app's env (it carries the ROOM and USER bindings).
 */
import { roomStub, userStub, type EdgeioBindings } from "../../../durable-objects/bindings";
import type { PresenceSnapshot } from "../../../durable-objects/presence/types";
import { userRoom } from "../../../durable-objects/socketio/private-rooms";
import type { Socket } from "../../../durable-objects/socketio/socket";
import type { UserInfo } from "../../../durable-objects/user";
import { hostOfSocketId } from "../../../protocol/ids";

export { roomStub, userStub };

type Env = EdgeioBindings | Record<string, unknown>;

function bindings(env: Env): EdgeioBindings {
  const candidate = env as Partial<EdgeioBindings>;
  if (!candidate.ROOM || !candidate.USER) {
    throw new TypeError("edgeio: env has no ROOM / USER Durable Object bindings (see the starter's wrangler.toml)");
  }
  return candidate as EdgeioBindings;
}

/** Who is in `room` (one entry per user, one meta per connection) and the counts. */
export async function roomPresence(env: Env, room: string, namespace = "/"): Promise<PresenceSnapshot> {
  return (await roomStub(bindings(env), namespace, room).presence()) as PresenceSnapshot;
}

/** Whether a user is online, with their devices and connection count. */
export async function userStatus(env: Env, userId: string): Promise<UserInfo> {
  return (await userStub(bindings(env), userId).info(userId)) as UserInfo;
}

/** Emits `event` to every connection of a user (all tabs and devices); resolves to how many got it. */
export async function emitToUser(env: Env, userId: string, event: string, payload: unknown): Promise<number> {
  return userStub(bindings(env), userId).emit(event, payload);
}

/**
 * Makes a connection count as its user's, as the default app does: joins `user:<id>` (so the HTTP
 * API's `users` targets and `emitToUser` reach it) and registers it with the user's UserDO
 * (online/offline, devices, `userStatus`), unregistering it on disconnect. Call it from a
 * `connection` handler, every time (also on replay: it re-registers the disconnect listener),
 * once a middleware has set `socket.data.user` (e.g. `authMiddleware`).
 */
export async function trackUser(env: Env, socket: Socket): Promise<void> {
  const user: { id?: unknown; name?: unknown } | undefined = socket.data.user;
  if (typeof user?.id !== "string" || user.id.length === 0) {
    throw new TypeError("edgeio: trackUser needs socket.data.user.id (set it in a middleware, e.g. authMiddleware)");
  }
  const id = user.id;
  const stub = userStub(bindings(env), id);
  socket.on("disconnect", () =>
    stub.removeConnection(socket.id).catch((error: unknown) => console.error("edgeio: UserDO disconnect failed", error)),
  );
  if (socket.restored) return; // after an eviction: listeners only, the registration is kept
  await socket.join(userRoom(id));
  const deviceId: unknown = socket.data.presence?.deviceId;
  await stub.addConnection({
    socketId: socket.id,
    nsp: socket.nsp,
    deviceId: typeof deviceId === "string" ? deviceId : undefined,
    host: hostOfSocketId(socket.id) ?? "unknown:0",
    user: { id, name: typeof user.name === "string" ? user.name : id },
  });
}
