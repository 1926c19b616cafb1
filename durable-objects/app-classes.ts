/**
 * The Durable Object classes bound to an app: the ConnectionHost to the app (its handlers), RoomDO
 * and UserDO to its lifecycle hooks. `createWorker(app)` returns these, and the Worker entry exports
 * them under the names wrangler.toml binds (`export class RoomDO extends worker.RoomDO {}`).
 * The plain `RoomDO` / `UserDO` classes still work; they run no hooks.
 */
import type { EdgeioApp } from "./socketio/server";
import type { EdgeioBindings } from "./bindings";
import { ConnectionHost } from "./connection-host";
import type { LifecycleHooks } from "./lifecycle/types";
import type { PresenceEnv } from "./presence/presence-object";
import { RoomDO } from "./room";
import { UserDO } from "./user";

export function createRoomDO(hooks: LifecycleHooks = {}): typeof RoomDO & (new (ctx: DurableObjectState, env: PresenceEnv) => RoomDO) {
  return class extends RoomDO {
    constructor(ctx: DurableObjectState, env: PresenceEnv) {
      super(ctx, env, hooks);
    }
  } as never;
}

export function createUserDO(hooks: LifecycleHooks = {}): typeof UserDO & (new (ctx: DurableObjectState, env: PresenceEnv) => UserDO) {
  return class extends UserDO {
    constructor(ctx: DurableObjectState, env: PresenceEnv) {
      super(ctx, env, hooks);
    }
  } as never;
}

/** The ConnectionHost class for an app: what the Worker entry exports (see worker/edgeio.ts). */
export function createConnectionHost(
  app: EdgeioApp,
): typeof ConnectionHost & (new (ctx: DurableObjectState, env: EdgeioBindings) => ConnectionHost) {
  return class extends ConnectionHost {
    constructor(ctx: DurableObjectState, env: EdgeioBindings) {
      super(ctx, env, app);
    }
  } as never;
}
