/**
 * The application-facing API: `io.of(ns).use(mw).on("connection", socket => …)`, as in
 * Socket.IO's Server and Namespace. An app is a `defineApp(io => …)` module; every
 * ConnectionHost runs it for the sockets it owns. `io.of(/regex/)` and `io.of(fn)` declare
 * parent namespaces whose children are created by a matching CONNECT (dynamic-namespaces.ts).
 */
import type { Hono } from "hono";
import { BroadcastOperator, type RoomArg } from "./broadcast-operator";
import { type NamespaceMatcher, type ParentSpec, parentSpecOf, runMatchers } from "./dynamic-namespaces";
import { assertEmittable } from "./emittable";
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

/** Options of Socket.IO's `new Server(opts)` that mean something here (`defineApp(setup, { server })`). */
export interface ServerOptions {
  /** Forget a child namespace of a parent (regex / function) once its last socket here left. */
  cleanupEmptyChildNamespaces?: boolean;
}

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

/**
 * What `io.of(/regex/)` or `io.of(fn)` returns (Socket.IO's ParentNamespace): its middlewares
 * and "connection" listeners are copied to each child when the child is created, and `emit`
 * reaches every child this host knows, as a parent does on one Socket.IO node.
 */
export class ParentNamespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // biome-ignore lint/suspicious/noExplicitAny: Socket.IO types socket.data as any by default
  SocketData = any,
> extends Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  readonly children = new Set<Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();

  constructor(
    runtime: HostRuntime,
    /** Declaration order among the app's parents: persisted with a child's sockets (see the bridge). */
    readonly index: number,
    readonly spec: ParentSpec,
  ) {
    super(`/_${index}`, runtime);
  }

  createChild(name: string): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const child = new Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(name, this.runtime);
    child.middlewares.push(...this.middlewares);
    child.connectionListeners.push(...this.connectionListeners);
    child.parent = this as unknown as ParentNamespace;
    this.children.add(child);
    return child;
  }

  override emit<Ev extends EventNames<EmitEvents>>(event: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    for (const child of this.children) child.emit(event, ...args);
    return true;
  }

  // A parent has no sockets of its own: targeting it would silently reach nobody.
  override to(_room?: RoomArg): never {
    throw parentOnly("to");
  }
  override in(_room?: RoomArg): never {
    throw parentOnly("in");
  }
  override except(_room?: RoomArg): never {
    throw parentOnly("except");
  }
  override socketsJoin(_room?: RoomArg): never {
    throw parentOnly("socketsJoin");
  }
  override socketsLeave(_room?: RoomArg): never {
    throw parentOnly("socketsLeave");
  }
  override disconnectSockets(_close?: boolean): never {
    throw parentOnly("disconnectSockets");
  }
}

const parentOnly = (method: string) =>
  new Error(`edgeio: ${method}() is not supported on a parent namespace (regex / function); use the child: io.of("/child").${method}(…)`);

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

  constructor(private readonly runtime: HostRuntime) {}

  /** Applies `defineApp`'s server options (before the app's setup runs). */
  configure(options: ServerOptions): void {
    this.options = { ...options };
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
  on(event: string, listener: Listener): this;
  on(event: string, listener: Listener): this {
    (this.of("/") as Namespace).on(event, listener);
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
  /** Socket.IO server options that apply here (`cleanupEmptyChildNamespaces`). */
  server?: ServerOptions;
}

export interface EdgeioApp {
  setup(io: Server, env: AppEnv): void;
  routes?: (http: AppHttp) => void;
  validate?: (env: AppEnv) => void;
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
      io.configure(server ?? {});
      setup(io as unknown as Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, env);
    },
  };
}
