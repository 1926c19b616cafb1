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

type HostNamespace = EdgeioBindings["CONNECTION_HOST"];

/**
 * Host ids by name, per namespace binding: `idFromName` hashes the name on every call, and every
 * connect and fan-out names a host of a small, fixed set (the pools). An id is a plain value (no
 * I/O, no session state); bounded, cleared when full.
 */
const hostIds = new WeakMap<HostNamespace, Map<string, DurableObjectId>>();
const HOST_IDS_MAX = 4096;

export function hostStub(env: EdgeioBindings, host: string): DurableObjectStub<ConnectionHostApi & Rpc.DurableObjectBranded> {
  const namespace = env.CONNECTION_HOST;
  let ids = hostIds.get(namespace);
  if (!ids) {
    ids = new Map();
    hostIds.set(namespace, ids);
  }
  let id = ids.get(host);
  if (!id) {
    if (ids.size >= HOST_IDS_MAX) ids.clear();
    id = namespace.idFromName(host);
    ids.set(host, id);
  }
  return namespace.get(id);
}

/** The UserDO of a user id. */
export function userStub(env: EdgeioBindings, userId: string): DurableObjectStub<UserDO> {
  return env.USER.get(env.USER.idFromName(userId));
}
