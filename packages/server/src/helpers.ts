/**
 * Room, user and presence helpers for app code (handlers and HTTP routes): what the HTTP API's
 * `GET /v1/rooms/{room}/presence` and `GET /v1/users/{id}` answer, without going through HTTP.
 * `env` is the Worker's or the app's env (it carries the ROOM and USER bindings).
 */
import { roomStub, userStub, type EdgeioBindings } from "../../../durable-objects/bindings";
import type { PresenceSnapshot } from "../../../durable-objects/presence/types";
import type { UserInfo } from "../../../durable-objects/user";

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
