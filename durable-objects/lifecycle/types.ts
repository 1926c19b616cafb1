/**
 * Lifecycle hooks of an app (`defineApp(setup, { hooks })`): presence and connection edges acted
 * on inside the service, with no backend round trip. They run in the Durable Object that decides
 * the edge (RoomDO for rooms, UserDO for users and devices), not in the ConnectionHost that runs
 * `setup`, which is why they are declared beside `setup` rather than with `io.on(…)`.
 * This module is a leaf (types only), so the app definition (socketio/server.ts) can name them.
 */

/** What a hook may emit with: the `@edgeio/emitter` chain, bound to the Worker's env. */
export interface HookEmitter {
  /** Another namespace, or several at once (`of(["/", "/admin"])`: each gets the operation). */
  of(namespace: string | readonly string[]): HookEmitter;
  /** Sockets in any of these rooms (a socket id is a room too). */
  to(room: string | readonly string[]): HookEmitter;
  in(room: string | readonly string[]): HookEmitter;
  /** Minus sockets in any of these rooms, or with these ids. */
  except(room: string | readonly string[]): HookEmitter;
  /** Every connection of these users (the room `user:<id>`). */
  user(id: string | number | ReadonlyArray<string | number>): HookEmitter;
  emit(event: string, ...args: unknown[]): Promise<HookOperationResult>;
  socketsJoin(room: string | readonly string[]): Promise<HookOperationResult>;
  socketsLeave(room: string | readonly string[]): Promise<HookOperationResult>;
  disconnectSockets(close?: boolean): Promise<HookOperationResult>;
}

/** As the HTTP API answers: target rooms, hosts called (per namespace), sockets matched. */
export interface HookOperationResult {
  rooms: number;
  hosts: number;
  sockets: number;
}

export interface HookContext {
  /** The Worker's vars and bindings (read-only). */
  env: Record<string, unknown>;
  /** Emits into any namespace, room or user through the same fan-out as `POST /v1/emit`. */
  emitter: HookEmitter;
  /** 1 on the first run; more when an earlier run threw or timed out (at-least-once). */
  attempt: number;
}

export interface HookUser {
  id: string;
  name: string;
}

/** Each hook's event: the same data as the webhook of the same edge (docs/http-api.md § Webhooks). */
export interface LifecycleEvents {
  /** The user's first connection anywhere (all devices live at that moment). */
  userOnline: { user: HookUser; devices: string[] };
  /** The user's last connection closed and the grace period passed. */
  userOffline: { user: HookUser };
  /** A device's first connection (also for each device of a user coming online). */
  deviceConnected: { user: HookUser; deviceId: string };
  /** A device's last connection closed and the grace period passed (also each device of a user going offline). */
  deviceDisconnected: { user: HookUser; deviceId: string };
  /** The first user is announced in a presence room. */
  roomOccupied: { nsp: string; room: string };
  /** The room's last user is gone (after the grace period). */
  roomVacated: { nsp: string; room: string };
  /** A user's first connection joined a presence room. */
  memberAdded: { nsp: string; room: string; user: HookUser };
  /** A user's last connection left a presence room (after the grace period). */
  memberRemoved: { nsp: string; room: string; user: HookUser };
}

export type LifecycleHookName = keyof LifecycleEvents;

export type LifecycleHooks = {
  /** The result is awaited (a returned promise counts) and otherwise ignored. */
  [K in LifecycleHookName]?: (event: LifecycleEvents[K], context: HookContext) => unknown;
};

export const LIFECYCLE_HOOK_NAMES: readonly LifecycleHookName[] = [
  "userOnline",
  "userOffline",
  "deviceConnected",
  "deviceDisconnected",
  "roomOccupied",
  "roomVacated",
  "memberAdded",
  "memberRemoved",
];
