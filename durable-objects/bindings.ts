/** The Durable Object bindings every edgeio Worker declares (see wrangler.toml). */
import type { ConnectionHostApi } from "./host-api";
import type { RoomDO } from "./room";
import type { UserDO } from "./user";
import type { WebhookDO } from "./webhooks/webhook-do";

export interface EdgeioBindings {
  CONNECTION_HOST: DurableObjectNamespace<ConnectionHostApi & Rpc.DurableObjectBranded>;
  ROOM: DurableObjectNamespace<RoomDO>;
  /** One UserDO per user id: the user's connections on every tab and device. */
  USER: DurableObjectNamespace<UserDO>;
  /** Webhook outbox (optional: without it, and without WEBHOOK_URLS, no webhooks are sent). */
  WEBHOOKS?: DurableObjectNamespace<WebhookDO>;
}

/** The RoomDO that owns `room` in `nsp`; `room = null` is the namespace itself (every socket). */
export function roomStub(env: EdgeioBindings, nsp: string, room: string | null): DurableObjectStub<RoomDO> {
  return env.ROOM.get(env.ROOM.idFromName(JSON.stringify([nsp, room])));
}

export function hostStub(env: EdgeioBindings, host: string): DurableObjectStub<ConnectionHostApi & Rpc.DurableObjectBranded> {
  return env.CONNECTION_HOST.get(env.CONNECTION_HOST.idFromName(host));
}

/** The UserDO of a user id. */
export function userStub(env: EdgeioBindings, userId: string): DurableObjectStub<UserDO> {
  return env.USER.get(env.USER.idFromName(userId));
}
