/**
 * The application-facing API: `io.of(ns).use(mw).on("connection", socket => …)`, as in
 * Socket.IO's Server and Namespace. An app is a `defineApp(io => …)` module; every
 * ConnectionHost runs it for the sockets it owns.
 */
import type { Hono } from "hono";
import { BroadcastOperator, type RoomArg } from "./broadcast-operator";
import { assertEmittable } from "./emittable";
import type { FetchedSockets } from "./remote-socket";
import type { Listener, Socket } from "./socket";
import type { HostRuntime } from "./types";

/** An error passed to `next(err)` in a middleware; `data` reaches the client's connect_error. */
export interface MiddlewareError extends Error {
  data?: unknown;
}
export type Middleware = (socket: Socket, next: (error?: MiddlewareError) => void) => void | Promise<void>;
export type ConnectionListener = (socket: Socket) => unknown;

/** serverSideEmit waits this long for each other host's answer (Socket.IO's adapters: 5 s, fixed). */
export const SERVER_SIDE_ACK_TIMEOUT_MS = 5_000;

/** serverSideEmit's callback: one response per other host; the error when some did not answer in time. */
type ServerSideAck = (error: (Error & { responses?: unknown[] }) | null, responses: unknown[]) => void;

export class Namespace {
  readonly middlewares: Middleware[] = [];
  readonly connectionListeners: ConnectionListener[] = [];
  /** Sockets of this namespace that are live in this host instance. */
  readonly sockets = new Map<string, Socket>();
  /** Listeners of events other hosts send with serverSideEmit (`namespace.on("event", …)`). */
  private readonly serverSide = new Map<string, Listener[]>();

  constructor(
    readonly name: string,
    private readonly runtime: HostRuntime,
  ) {}

  use(middleware: Middleware): this {
    this.middlewares.push(middleware);
    return this;
  }

  /** "connection" (or "connect"): each new socket. Any other event: what other hosts send with serverSideEmit. */
  on(event: "connection" | "connect", listener: ConnectionListener): this;
  on(event: string, listener: Listener): this;
  on(event: string, listener: Listener): this {
    if (event === "connection" || event === "connect") {
      this.connectionListeners.push(listener);
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

  private operator(): BroadcastOperator {
    return new BroadcastOperator(this.runtime, this.name);
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

  to(room: RoomArg): BroadcastOperator {
    return this.operator().to(room);
  }
  in(room: RoomArg): BroadcastOperator {
    return this.operator().to(room);
  }
  except(room: RoomArg): BroadcastOperator {
    return this.operator().except(room);
  }
  emit(event: string, ...args: unknown[]): true {
    return this.operator().emit(event, ...args);
  }
  get volatile(): BroadcastOperator {
    return this.operator().volatile;
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

export class Server {
  private readonly namespaces = new Map<string, Namespace>();

  constructor(private readonly runtime: HostRuntime) {}

  /** Declares (or returns) a namespace. Only declared namespaces accept connections. */
  of(name: string): Namespace {
    const normalized = name.startsWith("/") ? name : `/${name}`;
    let namespace = this.namespaces.get(normalized);
    if (!namespace) {
      namespace = new Namespace(normalized, this.runtime);
      this.namespaces.set(normalized, namespace);
    }
    return namespace;
  }

  namespace(name: string): Namespace | undefined {
    return this.namespaces.get(name);
  }

  get sockets(): Namespace {
    return this.of("/");
  }
  use(middleware: Middleware): this {
    this.of("/").use(middleware);
    return this;
  }
  on(event: "connection" | "connect", listener: ConnectionListener): this;
  on(event: string, listener: Listener): this;
  on(event: string, listener: Listener): this {
    this.of("/").on(event, listener);
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
  to(room: RoomArg): BroadcastOperator {
    return this.of("/").to(room);
  }
  in(room: RoomArg): BroadcastOperator {
    return this.of("/").to(room);
  }
  except(room: RoomArg): BroadcastOperator {
    return this.of("/").except(room);
  }
  emit(event: string, ...args: unknown[]): true {
    return this.of("/").emit(event, ...args);
  }
  get volatile(): BroadcastOperator {
    return this.of("/").volatile;
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
export function defineApp(setup: (io: Server, env: AppEnv) => void, options: AppOptions = {}): EdgeioApp {
  return { setup, ...options };
}
