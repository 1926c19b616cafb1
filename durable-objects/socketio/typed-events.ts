/**
 * Socket.IO 4's typed events, at the type level only: `Server<ClientToServer, ServerToClient,
 * InterServer, SocketData>` checks event names, arguments and acknowledgements of `on`, `emit`,
 * `emitWithAck` and `timeout().emit`. Every parameter defaults to an untyped map, so apps that
 * name no types keep `(event: string, ...args: any[])`. The shapes follow socket.io's
 * `typed-events.ts` so that the same interfaces work unchanged.
 */
import type { BroadcastOperator, RoomArg } from "./broadcast-operator";
import type { DisconnectReason } from "./types";

// biome-ignore lint/suspicious/noExplicitAny: an events map's values are whatever function types the app declares, as in Socket.IO
export type EventsMap = Record<string, any>;

/** The untyped map: any event name, any arguments. */
// biome-ignore lint/suspicious/noExplicitAny: untyped events take any arguments, as in Socket.IO
export type DefaultEventsMap = Record<string, (...args: any[]) => void>;

export type EventNames<Map extends EventsMap> = keyof Map & string;

// biome-ignore lint/suspicious/noExplicitAny: Parameters<> needs a function constraint
type Fn = (...args: any[]) => any;
type ParamsOf<T> = T extends Fn ? Parameters<T> : never;

export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> = ParamsOf<Map[Ev]>;

type IsAny<T> = 0 extends 1 & T ? true : false;

export type Last<T extends readonly unknown[]> = T extends readonly [infer Only]
  ? Only
  : T extends readonly [unknown, ...infer Tail]
    ? Last<Tail>
    : T extends ReadonlyArray<infer Element>
      ? Element
      : never;

// biome-ignore lint/suspicious/noExplicitAny: an untyped tuple stays any[], as in Socket.IO
export type AllButLast<T extends readonly unknown[]> = T extends readonly [...infer Head, unknown] ? Head : any[];

/** The answer type of an ack callback: its first argument that is not the timeout's Error. */
export type FirstNonErrorArg<T> = T extends (...args: infer P) => unknown ? (P[0] extends Error ? P[1] : P[0]) : unknown;

/** Events whose last parameter is an acknowledgement callback (every event when untyped). */
export type EventNamesWithAck<Map extends EventsMap, K extends EventNames<Map> = EventNames<Map>> =
  IsAny<Last<ParamsOf<Map[K]>>> extends true
    ? K
    : K extends (ParamsOf<Map[K]> extends never[] ? never : Last<ParamsOf<Map[K]>> extends Fn ? K : never)
      ? K
      : never;

/** `timeout(ms)`: an ack callback `(res) => void` becomes `(err, res) => void`. */
export type DecorateAcknowledgements<E extends EventsMap> = {
  [K in keyof E]: E[K] extends (...args: infer P) => infer R ? (...args: PrependTimeoutError<P>) => R : E[K];
};
type PrependTimeoutError<T extends unknown[]> = {
  [K in keyof T]: T[K] extends (...args: infer P) => infer R ? (P[0] extends Error ? T[K] : (err: Error, ...args: P) => R) : T[K];
};

/** What a server-side socket emits to its own listeners (never a client's event name). */
export interface SocketReservedEvents {
  disconnect: (reason: DisconnectReason) => void;
  disconnecting: (reason: DisconnectReason) => void;
  /** A `socket.use` middleware called `next(err)` (or the client emitted "error"). */
  error: (error: Error) => void;
}

type ReservedOrUserEventNames<Reserved extends EventsMap, User extends EventsMap> = EventNames<Reserved> | EventNames<User>;

/** The listener type for `socket.on(ev, …)`: reserved events first, then the app's map. */
export type ReservedOrUserListener<Reserved extends EventsMap, User extends EventsMap, Ev extends string> = FallbackToUntyped<
  Ev extends EventNames<Reserved> ? Reserved[Ev] : Ev extends EventNames<User> ? User[Ev] : never
>;
// biome-ignore lint/suspicious/noExplicitAny: an event outside both maps is untyped, as in Socket.IO
type FallbackToUntyped<T> = [T] extends [never] ? (...args: any[]) => void | Promise<void> : T;

export type SocketListenNames<ListenEvents extends EventsMap> = ReservedOrUserEventNames<SocketReservedEvents, ListenEvents>;

/**
 * `to(room)`, `except(room)`, `volatile`, `emit` of the broadcast operator with the emit map
 * applied; its other methods keep their own signatures.
 */
// biome-ignore lint/suspicious/noExplicitAny: Socket.IO types socket.data as any by default
export type TypedBroadcastOperator<EmitEvents extends EventsMap, SocketData = any> = Omit<
  BroadcastOperator,
  "to" | "in" | "except" | "volatile" | "emit" | "compress"
> & {
  to(room: RoomArg): TypedBroadcastOperator<EmitEvents, SocketData>;
  in(room: RoomArg): TypedBroadcastOperator<EmitEvents, SocketData>;
  except(room: RoomArg): TypedBroadcastOperator<EmitEvents, SocketData>;
  readonly volatile: TypedBroadcastOperator<EmitEvents, SocketData>;
  compress(compress: boolean): TypedBroadcastOperator<EmitEvents, SocketData>;
  emit<Ev extends EventNames<EmitEvents>>(event: Ev, ...args: EventParams<EmitEvents, Ev>): boolean;
};
