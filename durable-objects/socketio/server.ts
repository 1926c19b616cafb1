/**
 * The application-facing API: `io.of(ns).use(mw).on("connection", socket => …)`, as in
 * Socket.IO's Server and Namespace. An app is a `defineApp(io => …)` module; every
 * ConnectionHost runs it for the sockets it owns. `io.of(/regex/)` and `io.of(fn)` declare
 * parent namespaces whose children are created by a matching CONNECT (dynamic-namespaces.ts).
 */
import type { Hono } from "hono";
import type { BroadcastOperator, RoomArg } from "./broadcast-operator";
import { type NamespaceMatcher, parentSpecOf, runMatchers } from "./dynamic-namespaces";
import { type ConnectionListener, type Middleware, Namespace } from "./namespace";
import { ParentNamespace } from "./parent-namespace";
import type { FetchedSockets } from "./remote-socket";
import type { Listener, Socket } from "./socket";
import type { DefaultEventsMap, EventNames, EventParams, EventsMap, TypedBroadcastOperator } from "./typed-events";
import type { HostRuntime } from "./types";
import type { LifecycleHooks } from "../lifecycle/types";
import {
  type ConnectionStateRecoveryOptions,
  type ExpiredSocket,
  RECOVERY_EXPIRED_EVENT,
  type RecoveryConfig,
  recoveryConfigOf,
} from "../recovery/options";

export { type ConnectionListener, type Middleware, type MiddlewareError, Namespace, SERVER_SIDE_ACK_TIMEOUT_MS } from "./namespace";
export { ParentNamespace } from "./parent-namespace";

/** Options of Socket.IO's `new Server(opts)` that mean something here (`defineApp(setup, { server })`). */
export interface ServerOptions {
  /** Forget a child namespace of a parent (regex / function) once its last socket here left. */
  cleanupEmptyChildNamespaces?: boolean;
  /**
   * Socket.IO's connection-state recovery: a socket dropped by its transport comes back with
   * its id, rooms, `socket.data` and the packets it missed (docs/recovery.md).
   */
  connectionStateRecovery?: ConnectionStateRecoveryOptions;
}

export class Server<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // biome-ignore lint/suspicious/noExplicitAny: Socket.IO types socket.data as any by default
  SocketData = any,
> {
  private readonly namespaces = new Map<string, Namespace>();
  private readonly parents: ParentNamespace[] = [];
  private options: ServerOptions = {};
  private recoveryConfig: RecoveryConfig | null = null;
  private readonly expiredListeners: Array<(socket: ExpiredSocket) => unknown> = [];

  constructor(private readonly runtime: HostRuntime) {}

  /** Applies `defineApp`'s server options (before the app's setup runs). */
  configure(options: ServerOptions): void {
    this.options = { ...options };
    this.recoveryConfig = recoveryConfigOf(options.connectionStateRecovery);
  }

  /** ENVIRONMENT=test only (the host's `testRecovery`): recovery switched after the app's setup. */
  configureRecovery(options: ConnectionStateRecoveryOptions | undefined): void {
    this.configure({ ...this.options, connectionStateRecovery: options });
  }

  /** Connection-state recovery as configured (null: off). */
  get recovery(): RecoveryConfig | null {
    return this.recoveryConfig;
  }

  /** `io.on("recovery:expired", …)` listeners: a disconnected socket's window ended without a reconnect. */
  recoveryExpiredListeners(): ReadonlyArray<(socket: ExpiredSocket) => unknown> {
    return this.expiredListeners;
  }

  /**
   * Declares (or returns) a namespace; only declared namespaces and children of a parent
   * accept connections. A RegExp or a function `(name, auth, next)` declares a parent.
   */
  of(
    name: RegExp | NamespaceMatcher,
    listener?: ConnectionListener<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>,
  ): ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  of(
    name: string,
    listener?: ConnectionListener<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  of(
    name: string | RegExp | NamespaceMatcher,
    listener?: ConnectionListener<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  of(
    name: string | RegExp | NamespaceMatcher,
    listener?: ConnectionListener<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    type Typed = Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
    if (typeof name !== "string") {
      const parent = new ParentNamespace(this.runtime, this.parents.length, parentSpecOf(name));
      this.parents.push(parent);
      if (listener) parent.on("connection", listener as ConnectionListener);
      return parent as unknown as Typed;
    }
    const normalized = name.startsWith("/") ? name : `/${name}`;
    let namespace = this.namespaces.get(normalized);
    if (!namespace) {
      // As Socket.IO: a name a regex parent matches becomes that parent's child.
      const parent = this.parents.find((candidate) => candidate.spec.regex?.test(normalized));
      namespace = parent ? parent.createChild(normalized) : new Namespace(normalized, this.runtime);
      this.namespaces.set(normalized, namespace);
    }
    if (listener) namespace.on("connection", listener as ConnectionListener);
    return namespace as unknown as Typed;
  }

  /** A declared namespace, or a child namespace this instance already created. */
  namespace(name: string): Namespace | undefined {
    return this.namespaces.get(name);
  }

  /**
   * For a CONNECT to an undeclared name: asks each parent in declaration order (Socket.IO's
   * `_checkNamespace`); the first that allows it creates the child. Undefined: "Invalid namespace".
   */
  async checkNamespace(name: string, auth: Record<string, unknown>): Promise<Namespace | undefined> {
    const index = await runMatchers(
      this.parents.map((parent) => parent.spec.matcher),
      name,
      auth,
    );
    if (index === undefined) return undefined;
    return this.namespaces.get(name) ?? this.adoptChild(name, index);
  }

  /**
   * Rebuilds a child namespace after an eviction from the parent that created it (its index,
   * persisted by the bridge), without asking the matcher again: replays have no side effects.
   */
  restoreChild(name: string, parentIndex: number): Namespace | undefined {
    const existing = this.namespaces.get(name);
    if (existing) return existing;
    const parent = this.parents[parentIndex];
    if (!parent || (parent.spec.regex && !parent.spec.regex.test(name))) return undefined;
    return this.adoptChild(name, parentIndex);
  }

  /** After a socket left: with `cleanupEmptyChildNamespaces`, forgets an empty child. */
  socketLeft(namespace: Namespace): void {
    if (!this.options.cleanupEmptyChildNamespaces || !namespace.parent || namespace.sockets.size > 0) return;
    namespace.parent.children.delete(namespace);
    if (this.namespaces.get(namespace.name) === namespace) this.namespaces.delete(namespace.name);
  }

  private adoptChild(name: string, parentIndex: number): Namespace {
    const child = this.parents[parentIndex].createChild(name);
    this.namespaces.set(name, child);
    return child;
  }

  get sockets(): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    return this.of("/");
  }
  use(middleware: Middleware<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>): this {
    this.of("/").use(middleware);
    return this;
  }
  on(event: "connection" | "connect", listener: ConnectionListener<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>): this;
  on(event: typeof RECOVERY_EXPIRED_EVENT, listener: (socket: ExpiredSocket) => unknown): this;
  on(event: string, listener: Listener): this;
  on(event: string, listener: Listener): this {
    if (event === RECOVERY_EXPIRED_EVENT) this.expiredListeners.push(listener as (socket: ExpiredSocket) => unknown);
    else (this.of("/") as Namespace).on(event, listener);
    return this;
  }
  fetchSockets(): Promise<FetchedSockets> {
    return this.of("/").fetchSockets();
  }
  serverSideEmit(event: string, ...args: unknown[]): true {
    return this.of("/").serverSideEmit(event, ...args);
  }
  serverSideEmitWithAck(event: string, ...args: unknown[]): Promise<unknown[]> {
    return this.of("/").serverSideEmitWithAck(event, ...args);
  }
  timeout(ms: number): BroadcastOperator {
    return this.of("/").timeout(ms);
  }
  get local(): BroadcastOperator {
    return this.of("/").local;
  }
  to(room: RoomArg): TypedBroadcastOperator<EmitEvents, SocketData> {
    return this.of("/").to(room);
  }
  in(room: RoomArg): TypedBroadcastOperator<EmitEvents, SocketData> {
    return this.of("/").to(room);
  }
  except(room: RoomArg): TypedBroadcastOperator<EmitEvents, SocketData> {
    return this.of("/").except(room);
  }
  emit<Ev extends EventNames<EmitEvents>>(event: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.of("/").emit(event, ...args);
  }
  get volatile(): TypedBroadcastOperator<EmitEvents, SocketData> {
    return this.of("/").volatile;
  }
  compress(compress: boolean): TypedBroadcastOperator<EmitEvents, SocketData> {
    return this.of("/").compress(compress);
  }
  socketsJoin(room: RoomArg): Promise<void> {
    return this.of("/").socketsJoin(room);
  }
  socketsLeave(room: RoomArg): Promise<void> {
    return this.of("/").socketsLeave(room);
  }
  disconnectSockets(close = false): Promise<void> {
    return this.of("/").disconnectSockets(close);
  }
}

/** What the Worker's env offers to an app's setup (vars and bindings, read-only). */
export type AppEnv = Record<string, unknown>;

/** The Hono app an application adds its own HTTP routes to (handlers read vars via `c.env`). */
export type AppHttp = Hono<{ Bindings: AppEnv }>;

export interface AppOptions {
  /**
   * HTTP routes of the app, served by the Worker beside the core ones (which it cannot shadow:
   * they are matched first). Called once per Worker isolate and env.
   */
  routes?: (http: AppHttp) => void;
  /**
   * Validates the app's own configuration from env; throws ConfigError naming each bad field.
   * The Worker calls it on its first request, so a bad value answers `invalid_configuration`
   * (README "Configuration") instead of failing inside a Durable Object.
   */
  validate?: (env: AppEnv) => void;
  /**
   * Socket.IO server options that apply here (`cleanupEmptyChildNamespaces`,
   * `connectionStateRecovery`); a function reads them from the Worker's env.
   */
  server?: ServerOptions | ((env: AppEnv) => ServerOptions);
  /**
   * Presence and connection lifecycle hooks (`userOnline`, `userOffline`, `deviceConnected`,
   * `deviceDisconnected`, `roomOccupied`, `roomVacated`, `memberAdded`, `memberRemoved`), run in
   * the RoomDO / UserDO that decides each edge, at least once (lifecycle/hook-runs.ts). Their
   * context's `emitter` reaches any namespace, room or user. Needs the Worker entry to export
   * `worker.RoomDO` / `worker.UserDO` (README "Handler API").
   */
  hooks?: LifecycleHooks;
}

export interface EdgeioApp {
  setup(io: Server, env: AppEnv): void;
  routes?: (http: AppHttp) => void;
  validate?: (env: AppEnv) => void;
  hooks?: LifecycleHooks;
}

/**
 * Declares an application: `export default defineApp((io, env) => { io.on("connection", …) })`,
 * optionally with HTTP routes: `defineApp(setup, { routes: (http) => http.get("/hello", …) })`.
 */
export function defineApp<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // biome-ignore lint/suspicious/noExplicitAny: Socket.IO types socket.data as any by default
  SocketData = any,
>(setup: (io: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, env: AppEnv) => void, options: AppOptions = {}): EdgeioApp {
  const { server, ...rest } = options;
  return {
    ...rest,
    setup: (io, env) => {
      io.configure((typeof server === "function" ? server(env) : server) ?? {});
      setup(io as unknown as Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, env);
    },
  };
}
