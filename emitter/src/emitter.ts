/**
 * `Emitter`: the API of @socket.io/redis-emitter over edgeio's HTTP API.
 *
 *   const emitter = new Emitter({ url: "https://realtime.example.com", apiKey });
 *   await emitter.to("conversation:42").emit("message:new", msg);
 *   await emitter.of("/admin").user("7").except("room:muted").emit("notification", n);
 *   await emitter.of(["/", "/admin"]).emit("maintenance", at); // several namespaces, one request
 */
import { encodeArgs } from "./binary.js";
import { assertEmittable } from "./emittable.js";
import { EmitterError, InvalidEmitError } from "./errors.js";
import { request, type TransportOptions } from "./http.js";

export interface EmitterOptions {
  /** Base URL of the edgeio Worker, e.g. "https://realtime.example.com". */
  url: string;
  /** An API key from the Worker's API_KEYS (sent as a bearer token). */
  apiKey: string;
  /** Retries on network errors and 5xx answers (default 3). 4xx answers are never retried. */
  retries?: number;
  /** First retry delay in ms (default 200); doubles on each retry, with jitter. */
  retryDelayMs?: number;
  /** Upper bound of one retry delay in ms (default 5000). */
  maxRetryDelayMs?: number;
  /** Per-attempt timeout in ms (default 10000). */
  timeoutMs?: number;
  /** A fetch implementation (default: the global fetch). */
  fetch?: typeof fetch;
}

/** What the service answers for emit and the sockets operations. */
export interface OperationResult {
  ok: true;
  /** Target rooms after mapping users to `user:<id>` rooms (0 means the whole namespace). */
  rooms: number;
  /** ConnectionHosts that were reached. */
  hosts: number;
  /** Sockets that matched on those hosts. */
  sockets: number;
}

/** What POST /v1/emit/batch answers: per emit, in order, and in total. */
export interface BatchResult {
  ok: true;
  emits: number;
  /** ConnectionHosts called: one call each for the whole batch. */
  hosts: number;
  sockets: number;
  /** `superseded`: a later conflated emit of the same stream in this batch replaced it (not sent). */
  results: Array<{ rooms: number; hosts: number; sockets: number; superseded?: true }>;
}

/** One emit of a batch, made by `operator.prepare(event, ...args)` (validated and encoded already). */
export interface PreparedEmit {
  readonly body: Readonly<Record<string, unknown>>;
}

/** The service's bounds (protocol/conflation.ts, worker/api/schemas.ts), checked here before any request. */
export const CONFLATE_MIN_INTERVAL_MS = 10;
export const CONFLATE_MAX_INTERVAL_MS = 60_000;
export const MAX_BATCH_EMITS = 1000;

/** What to tell clients in `emitter.shutdown()` (POST /v1/shutdown). */
export interface ShutdownOptions {
  /** The smallest delay a socket is told, ms (0–600000; the service's default 5000). */
  reconnectDelayMs?: number;
  /** Each socket's delay adds a uniform random 0..jitterMs (0–600000, default 0; the client-shim adds its own). */
  jitterMs?: number;
  /** Only the sockets of these namespaces (default: every namespace, whatever the emitter's). */
  namespaces?: readonly string[];
}

/** What the service answers for `shutdown()`. */
export interface ShutdownResult {
  /** False when some host was not reached (see `failures`). */
  ok: boolean;
  /** ConnectionHosts that answered. */
  hosts: number;
  /** Sockets told `server:shutdown`. */
  sockets: number;
  /** Hosts that failed or did not answer in time; their clients were not told. */
  failed: number;
  failures: Array<{ host: string; error: string }>;
  reconnect_delay_ms: number;
  jitter_ms: number;
}

export type RoomArg = string | readonly string[];
export type NamespaceArg = string | readonly string[];

/** At most this many namespaces in one operation (the service refuses more). */
export const MAX_NAMESPACES = 16;
export type UserArg = string | number | ReadonlyArray<string | number>;

export { RESERVED_EVENTS } from "./emittable.js";

const list = <T>(value: T | readonly T[]): T[] => (Array.isArray(value) ? [...(value as readonly T[])] : [value as T]);

/** Normalized namespaces ("chat" → "/chat"), deduplicated; throws EmitterError for an empty list, too many or a non-string. */
function namespacesOf(value: NamespaceArg): string[] {
  const items = list<string>(value);
  if (items.some((item) => typeof item !== "string" || item === "")) throw new EmitterError("namespaces must be non-empty strings");
  const unique = [...new Set(items.map((item) => (item.startsWith("/") ? item : `/${item}`)))];
  if (unique.length === 0 || unique.length > MAX_NAMESPACES) {
    throw new EmitterError(`of() takes 1 to ${MAX_NAMESPACES} namespaces, got ${unique.length}`);
  }
  return unique;
}

interface Selection {
  /** One namespace is sent as `namespace`, several as `namespaces`. */
  namespaces: readonly string[];
  rooms: ReadonlySet<string>;
  users: ReadonlySet<string>;
  except: ReadonlySet<string>;
  volatile: boolean;
  conflate?: { key: string; interval_ms: number };
}

/** An immutable target: each call returns a new operator, so a base operator can be reused. */
export class BroadcastOperator {
  constructor(
    private readonly transport: TransportOptions,
    private readonly selection: Selection,
  ) {}

  private with(change: Partial<Selection>): BroadcastOperator {
    return new BroadcastOperator(this.transport, { ...this.selection, ...change });
  }

  /** Targets sockets in any of these rooms (a socket id is a room too). */
  to(room: RoomArg): BroadcastOperator {
    return this.with({ rooms: new Set([...this.selection.rooms, ...list<string>(room)]) });
  }

  in(room: RoomArg): BroadcastOperator {
    return this.to(room);
  }

  /** Excludes sockets in any of these rooms, or with these socket ids. */
  except(room: RoomArg): BroadcastOperator {
    return this.with({ except: new Set([...this.selection.except, ...list<string>(room)]) });
  }

  /** Targets every connection of these users (the room `user:<id>`). */
  user(id: UserArg): BroadcastOperator {
    return this.with({ users: new Set([...this.selection.users, ...list<string | number>(id).map(String)]) });
  }

  /** The event may be dropped for clients that are not ready (kept for API parity). */
  get volatile(): BroadcastOperator {
    return this.with({ volatile: true });
  }

  /**
   * Conflates the next emit: only the latest value per `key` (for this target and event) is
   * kept, and each member gets at most one per `intervalMs` (10–60000). Throws InvalidEmitError
   * at once for a bad key or interval.
   */
  conflate(key: string, intervalMs: number): BroadcastOperator {
    if (typeof key !== "string" || key.length < 1 || key.length > 256) {
      throw new InvalidEmitError("conflate(key, intervalMs): the key must be a string of 1–256 characters");
    }
    if (!Number.isInteger(intervalMs) || intervalMs < CONFLATE_MIN_INTERVAL_MS || intervalMs > CONFLATE_MAX_INTERVAL_MS) {
      throw new InvalidEmitError(
        `conflate(key, intervalMs): the interval must be an integer of ${CONFLATE_MIN_INTERVAL_MS}–${CONFLATE_MAX_INTERVAL_MS} ms`,
      );
    }
    return this.with({ conflate: { key, interval_ms: intervalMs } });
  }

  private selector() {
    const { namespaces } = this.selection;
    return {
      ...(namespaces.length === 1 ? { namespace: namespaces[0] } : { namespaces: [...namespaces] }),
      rooms: [...this.selection.rooms],
      users: [...this.selection.users],
      except: [...this.selection.except],
    };
  }

  /**
   * Emits to every matching socket. Throws at once, sending nothing, for a reserved name
   * (ReservedEventError) or a non-string name or unencodable argument (InvalidEmitError); the
   * promise rejects with an ApiError or NetworkError if the service refuses or is down.
   */
  emit(event: string, ...args: unknown[]): Promise<OperationResult> {
    return request<OperationResult>(this.transport, "POST", "/v1/emit", this.prepare(event, ...args).body);
  }

  /** The emit `emit(event, ...args)` would send, for `emitter.batch([...])`; throws as `emit` does. */
  prepare(event: string, ...args: unknown[]): PreparedEmit {
    assertEmittable(event, args);
    const { conflate } = this.selection;
    return {
      body: {
        ...this.selector(),
        event,
        args: args.map(encodeArgs),
        volatile: this.selection.volatile,
        ...(conflate ? { conflate } : {}),
      },
    };
  }

  /** Makes the matching sockets join these rooms, on every host. */
  socketsJoin(room: RoomArg): Promise<OperationResult> {
    return request(this.transport, "POST", "/v1/sockets/join", { ...this.selector(), room: list<string>(room) });
  }

  /** Makes the matching sockets leave these rooms. */
  socketsLeave(room: RoomArg): Promise<OperationResult> {
    return request(this.transport, "POST", "/v1/sockets/leave", { ...this.selector(), room: list<string>(room) });
  }

  /** Disconnects the matching sockets; `close` also closes their underlying connection. */
  disconnectSockets(close = false): Promise<OperationResult> {
    return request(this.transport, "POST", "/v1/sockets/disconnect", { ...this.selector(), close });
  }
}

export class Emitter {
  private readonly transport: TransportOptions;
  private readonly root: BroadcastOperator;
  /** The first (or only) target namespace. */
  readonly namespace: string;
  /** Every target namespace (`of(["/", "/admin"])`: both). */
  readonly namespaces: readonly string[];

  constructor(options: EmitterOptions, namespace: NamespaceArg = "/") {
    if (!options || typeof options.url !== "string" || !/^https?:\/\//.test(options.url)) {
      throw new EmitterError("Emitter needs { url: 'https://…' }");
    }
    if (typeof options.apiKey !== "string" || options.apiKey === "") throw new EmitterError("Emitter needs { apiKey }");
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== "function") throw new EmitterError("no fetch available; pass { fetch }");
    this.transport = {
      url: options.url,
      apiKey: options.apiKey,
      retries: options.retries ?? 3,
      retryDelayMs: options.retryDelayMs ?? 200,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 5_000,
      timeoutMs: options.timeoutMs ?? 10_000,
      fetch: (...args) => fetchImpl(...args),
    };
    this.namespaces = namespacesOf(namespace);
    this.namespace = this.namespaces[0];
    this.root = new BroadcastOperator(this.transport, {
      namespaces: this.namespaces,
      rooms: new Set(),
      users: new Set(),
      except: new Set(),
      volatile: false,
    });
  }

  /**
   * Sends many emits in one request (POST /v1/emit/batch: one request against the rate limit,
   * one call per host). All or nothing: the service refuses the whole batch if one emit is
   * invalid. 1–1000 emits, else InvalidEmitError at once.
   *
   *   await emitter.batch(quotes.map((q) => emitter.to("quotes").conflate(q.symbol, 100).prepare("quote", q)));
   */
  batch(emits: readonly PreparedEmit[]): Promise<BatchResult> {
    if (!Array.isArray(emits) || emits.length < 1 || emits.length > MAX_BATCH_EMITS) {
      throw new InvalidEmitError(`batch(emits) takes 1–${MAX_BATCH_EMITS} prepared emits`);
    }
    return request<BatchResult>(this.transport, "POST", "/v1/emit/batch", { emits: emits.map((emit) => emit.body) });
  }

  /** An emitter for another namespace, or several at once (same URL and key): `of(["/", "/admin"])`. */
  of(namespace: NamespaceArg): Emitter {
    return new Emitter({ ...this.transport }, namespace);
  }

  to(room: RoomArg): BroadcastOperator {
    return this.root.to(room);
  }
  in(room: RoomArg): BroadcastOperator {
    return this.root.in(room);
  }
  except(room: RoomArg): BroadcastOperator {
    return this.root.except(room);
  }
  user(id: UserArg): BroadcastOperator {
    return this.root.user(id);
  }
  get volatile(): BroadcastOperator {
    return this.root.volatile;
  }
  conflate(key: string, intervalMs: number): BroadcastOperator {
    return this.root.conflate(key, intervalMs);
  }
  prepare(event: string, ...args: unknown[]): PreparedEmit {
    return this.root.prepare(event, ...args);
  }
  /** Emits to every socket of the namespace. */
  emit(event: string, ...args: unknown[]): Promise<OperationResult> {
    return this.root.emit(event, ...args);
  }
  socketsJoin(room: RoomArg): Promise<OperationResult> {
    return this.root.socketsJoin(room);
  }
  socketsLeave(room: RoomArg): Promise<OperationResult> {
    return this.root.socketsLeave(room);
  }
  disconnectSockets(close = false): Promise<OperationResult> {
    return this.root.disconnectSockets(close);
  }

  /**
   * Orderly redeploys: tells every connected socket, on every host and in every namespace
   * (or `namespaces`), `server:shutdown { reconnect_delay_ms }`. Needs a full API key. A retry
   * after a lost answer may tell clients twice; the client-shim then simply restarts its wait.
   */
  shutdown(options: ShutdownOptions = {}): Promise<ShutdownResult> {
    return request(this.transport, "POST", "/v1/shutdown", {
      reconnect_delay_ms: options.reconnectDelayMs,
      jitter_ms: options.jitterMs,
      namespaces: options.namespaces ? [...options.namespaces] : undefined,
    });
  }
}
