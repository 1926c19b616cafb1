/**
 * A Socket.IO namespace on this host: its middlewares, "connection" listeners, the sockets it
 * holds here, broadcasts through the cluster seam, and serverSideEmit between hosts.
 */
import { BroadcastOperator, type RoomArg } from "./broadcast-operator";
import { assertEmittable } from "./emittable";
import type { ParentNamespace } from "./parent-namespace";
import type { FetchedSockets } from "./remote-socket";
import type { Listener, Socket } from "./socket";
import type { DefaultEventsMap, EventNames, EventParams, EventsMap, TypedBroadcastOperator } from "./typed-events";
import type { HostRuntime } from "./types";

/** An error passed to `next(err)` in a middleware; `data` reaches the client's connect_error. */
export interface MiddlewareError extends Error {
  data?: unknown;
}
// biome-ignore lint/suspicious/noExplicitAny: the default Socket type is untyped, as Socket.IO's
export type Middleware<S = Socket<any, any, any, any>> = (socket: S, next: (error?: MiddlewareError) => void) => void | Promise<void>;
// biome-ignore lint/suspicious/noExplicitAny: the default Socket type is untyped, as Socket.IO's
export type ConnectionListener<S = Socket<any, any, any, any>> = (socket: S) => unknown;

/** serverSideEmit waits this long for each other host's answer (Socket.IO's adapters: 5 s, fixed). */
export const SERVER_SIDE_ACK_TIMEOUT_MS = 5_000;

/** serverSideEmit's callback: one response per other host; the error when some did not answer in time. */
type ServerSideAck = (error: (Error & { responses?: unknown[] }) | null, responses: unknown[]) => void;

export class Namespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // biome-ignore lint/suspicious/noExplicitAny: Socket.IO types socket.data as any by default
  SocketData = any,
> {
  readonly middlewares: Middleware[] = [];
  readonly connectionListeners: ConnectionListener[] = [];
  /** Sockets of this namespace that are live in this host instance. */
  readonly sockets = new Map<string, Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
  /** The parent namespace that created this child (dynamic namespaces), if any. */
  parent?: ParentNamespace;
  /** Listeners of events other hosts send with serverSideEmit (`namespace.on("event", …)`). */
  private readonly serverSide = new Map<string, Listener[]>();

  constructor(
    readonly name: string,
    protected readonly runtime: HostRuntime,
  ) {}

  use(middleware: Middleware<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>): this {
    this.middlewares.push(middleware as Middleware);
    return this;
  }

  /** "connection" (or "connect"): each new socket. Any other event: what other hosts send with serverSideEmit. */
  on(event: "connection" | "connect", listener: ConnectionListener<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>): this;
  on(event: string, listener: Listener): this;
  on(event: string, listener: Listener): this {
    if (event === "connection" || event === "connect") {
      this.connectionListeners.push(listener as ConnectionListener);
      return this;
    }
    this.serverSide.set(event, [...(this.serverSide.get(event) ?? []), listener]);
    return this;
  }

  /** The listeners of a server-side event (cluster/host-ops.ts runs them). */
  serverSideListeners(event: string): readonly Listener[] {
    return this.serverSide.get(event) ?? [];
  }

  /**
   * Sends an event to the other hosts ("servers") that have sockets of this namespace, once
   * each; their `namespace.on(event, …)` listeners run. With a trailing callback, each host's
   * first answer is collected: `(err, responses)`, err when some host did not answer within 5 s.
   */
  serverSideEmit(event: string, ...args: unknown[]): true {
    assertEmittable(event, args, { ack: true });
    const last = args[args.length - 1];
    const ack = typeof last === "function" ? (last as ServerSideAck) : undefined;
    const data = ack ? args.slice(0, -1) : args;
    const sent = this.runtime.cluster.serverSideEmit(this.name, event, data, ack ? SERVER_SIDE_ACK_TIMEOUT_MS : undefined);
    sent.then(
      ({ responses, expected, failures }) => {
        if (!ack) return;
        if (responses.length === expected) return ack(null, responses);
        const error = new Error(`timeout reached: only ${responses.length} responses received out of ${expected}`);
        ack(Object.assign(error, { failures }), responses);
      },
      (error: unknown) => {
        if (ack) ack(error instanceof Error ? error : new Error(String(error)), []);
        else console.error("edgeio: serverSideEmit failed", error);
      },
    );
    return true;
  }

  /** Resolves with one answer per other host; rejects (with `err.responses`) when some did not answer. */
  serverSideEmitWithAck(event: string, ...args: unknown[]): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      this.serverSideEmit(event, ...args, ((error, responses) => {
        if (!error) return resolve(responses);
        error.responses = responses;
        reject(error);
      }) satisfies ServerSideAck);
    });
  }

  private operator(): TypedBroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.runtime, this.name) as unknown as TypedBroadcastOperator<EmitEvents, SocketData>;
  }

  fetchSockets(): Promise<FetchedSockets> {
    return this.operator().fetchSockets();
  }
  timeout(ms: number): BroadcastOperator {
    return this.operator().timeout(ms);
  }
  get local(): BroadcastOperator {
    return this.operator().local;
  }

  to(room: RoomArg): TypedBroadcastOperator<EmitEvents, SocketData> {
    return this.operator().to(room);
  }
  in(room: RoomArg): TypedBroadcastOperator<EmitEvents, SocketData> {
    return this.operator().to(room);
  }
  except(room: RoomArg): TypedBroadcastOperator<EmitEvents, SocketData> {
    return this.operator().except(room);
  }
  emit<Ev extends EventNames<EmitEvents>>(event: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.operator().emit(event, ...args);
  }
  get volatile(): TypedBroadcastOperator<EmitEvents, SocketData> {
    return this.operator().volatile;
  }
  /** Accepted for compatibility; see socket.compress. */
  compress(compress: boolean): TypedBroadcastOperator<EmitEvents, SocketData> {
    return this.operator().compress(compress);
  }
  socketsJoin(room: RoomArg): Promise<void> {
    return this.operator().socketsJoin(room);
  }
  socketsLeave(room: RoomArg): Promise<void> {
    return this.operator().socketsLeave(room);
  }
  disconnectSockets(close = false): Promise<void> {
    return this.operator().disconnectSockets(close);
  }
}
