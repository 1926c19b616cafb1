/** The Durable Object bindings every edgeio Worker declares (see wrangler.toml). */
import type { ConnectionHostApi } from "./connection-host";
import type { RoomDO } from "./room";

export interface EdgeioBindings {
  CONNECTION_HOST: DurableObjectNamespace<ConnectionHostApi & Rpc.DurableObjectBranded>;
  ROOM: DurableObjectNamespace<RoomDO>;
}

/** The RoomDO that owns `room` in `nsp`; `room = null` is the namespace itself (every socket). */
export function roomStub(env: EdgeioBindings, nsp: string, room: string | null): DurableObjectStub<RoomDO> {
  return env.ROOM.get(env.ROOM.idFromName(JSON.stringify([nsp, room])));
}

export function hostStub(env: EdgeioBindings, host: string): DurableObjectStub<ConnectionHostApi & Rpc.DurableObjectBranded> {
  return env.CONNECTION_HOST.get(env.CONNECTION_HOST.idFromName(host));
}
