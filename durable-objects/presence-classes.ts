/**
 * RoomDO and UserDO bound to an app's lifecycle hooks, as createConnectionHost binds the
 * ConnectionHost to the app: `createWorker(app)` returns these, and the Worker entry exports
 * them under the names wrangler.toml binds (`export class RoomDO extends worker.RoomDO {}`).
 * The plain `RoomDO` / `UserDO` classes still work; they run no hooks.
 */
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
