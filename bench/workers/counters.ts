/**
 * Bench-only instrumentation, run inside workerd (never part of the service): counts the work
 * Cloudflare bills, in this isolate's memory (locally one isolate runs the Worker and all its
 * Durable Objects, so module state sees every invocation).
 *
 * - Worker requests: every call of the default handler's `fetch` (client requests and the
 *   Worker's own loopback invocations), except the counters route itself and `/_edgeio/`.
 * - Durable Object requests: counted where they are made, on the stub (`fetch` and every RPC
 *   method, by binding and method), plus the runtime's own entry points on the classes
 *   (`alarm`, `webSocketMessage`, `webSocketClose`, `webSocketError`).
 * - SQLite rows read and written: from every cursor `ctx.storage.sql.exec()` returns
 *   (`rowsRead` / `rowsWritten`, read once the statement has run), plus one row per key for
 *   the key-value API (`get`, `put`, `delete`); alarm calls are counted by method. Miniflare's
 *   own statements (`__miniflare_do_name`, its local record of each object's name, written on
 *   every start of an instance) are not: they are the local emulation's, not the app's.
 * Storage is hooked at an object's first counted entry point (or `fetch`), so SQL run by the
 * very first constructors is missed; the bench warms every system up before measuring.
 *
 * `GET /__bench/counters` answers the totals as JSON; `GET /__bench/restart` starts objects
 * anew (restarts.ts).
 */
import { env as moduleEnv } from "cloudflare:workers";
import { addRestartHooks, restartRoute } from "./restarts";

export interface WorkCounters {
  workerRequests: number;
  /** `<binding>.<method>` → calls made on Durable Object stubs (fetch and RPC). */
  stubCalls: Record<string, number>;
  /** `<class>.<entry point>` → runtime-initiated invocations (alarms, WebSocket events). */
  entryPoints: Record<string, number>;
  sqlStatements: number;
  /** Key-value storage API calls by method (`get`, `put`, `setAlarm`…): their rows are counted below, one per key. */
  storageCalls: Record<string, number>;
  rowsRead: number;
  rowsWritten: number;
}

const counters: WorkCounters = {
  workerRequests: 0,
  stubCalls: {},
  entryPoints: {},
  sqlStatements: 0,
  storageCalls: {},
  rowsRead: 0,
  rowsWritten: 0,
};
const bump = (table: Record<string, number>, key: string) => {
  table[key] = (table[key] ?? 0) + 1;
};

// A cursor's counts grow while it is consumed; cursors are read once they are surely done
// (the older half when 1,000 are pending, all of them when the counters are asked for).
let pending: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
function settle(count: number): void {
  for (const cursor of pending.slice(0, count)) {
    counters.rowsRead += cursor.rowsRead;
    counters.rowsWritten += cursor.rowsWritten;
  }
  pending = pending.slice(count);
}

const keysOf = (arg: unknown) => (Array.isArray(arg) ? arg.length : typeof arg === "object" && arg !== null ? Object.keys(arg).length : 1);

/** The key-value API of SQLite-backed objects stores rows too: one per key read, written or deleted. */
function patchStorage(storage: DurableObjectStorage): void {
  const proto = Object.getPrototypeOf(storage) as Record<string, unknown>;
  const rows: Record<string, "rowsRead" | "rowsWritten" | null> = {
    get: "rowsRead",
    put: "rowsWritten",
    delete: "rowsWritten",
    list: null,
    getAlarm: null,
    setAlarm: null,
    deleteAlarm: null,
  };
  for (const [method, kind] of Object.entries(rows)) {
    const original = proto[method];
    if (typeof original !== "function") continue;
    proto[method] = function (this: DurableObjectStorage, ...args: unknown[]) {
      bump(counters.storageCalls, method);
      if (kind) counters[kind] += keysOf(args[0]);
      return Reflect.apply(original, this, args);
    };
  }
}

let sqlPatched = false;
function patchSql(storage: DurableObjectStorage | undefined): void {
  if (sqlPatched || !storage) return;
  sqlPatched = true;
  patchStorage(storage);
  const sql = storage.sql;
  const proto = Object.getPrototypeOf(sql) as SqlStorage;
  const exec = proto.exec;
  proto.exec = function (this: SqlStorage, ...args: Parameters<SqlStorage["exec"]>) {
    const cursor = exec.apply(this, args);
    // Miniflare's own bookkeeping (it stores each object's name for `ctx.id.name` on every start
    // of an instance: a row written per wake of a hibernated object): the emulation's, not the app's.
    if (args[0].includes("__miniflare_")) return cursor;
    counters.sqlStatements++;
    pending.push(cursor);
    if (pending.length >= 1000) settle(500);
    return cursor;
  } as SqlStorage["exec"];
}

const ENTRY_POINTS = ["alarm", "webSocketMessage", "webSocketClose", "webSocketError"] as const;
/** Not counted here (the stub counts it), only used to hook SQLite early. */
const HOOK_ONLY = ["fetch"] as const;
type AnyClass = { name: string; prototype: Record<string, unknown> };

/** Counts the runtime's entry points of each Durable Object class (in place, on its prototype). */
export function instrumentClasses(classes: AnyClass[]): void {
  for (const cls of classes) {
    addRestartHooks(cls);
    for (const name of [...ENTRY_POINTS, ...HOOK_ONLY]) {
      const original = cls.prototype[name];
      if (typeof original !== "function") continue;
      const counted = (ENTRY_POINTS as readonly string[]).includes(name);
      cls.prototype[name] = function (this: { ctx?: DurableObjectState }, ...args: unknown[]) {
        if (counted) bump(counters.entryPoints, `${cls.name}.${name}`);
        patchSql(this.ctx?.storage);
        return original.apply(this, args);
      };
    }
  }
}

const stubProxies = new WeakMap<object, object>();
function countingStub(binding: string, stub: object): object {
  const cached = stubProxies.get(stub);
  if (cached) return cached;
  const proxy = new Proxy(stub, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function" || typeof property !== "string") return value;
      return (...args: unknown[]) => {
        if (property !== "stats") bump(counters.stubCalls, `${binding}.${property}`);
        // Reflect.apply: on an RPC stub even `.apply` would be a remote property.
        return Reflect.apply(value, target, args);
      };
    },
  });
  stubProxies.set(stub, proxy);
  return proxy;
}

/** Wraps `get` / `getByName` of every Durable Object namespace so each stub counts its calls. */
function patchNamespaces(): void {
  const bindings = new Map<object, string>();
  for (const [name, value] of Object.entries(moduleEnv as Record<string, unknown>)) {
    if (value && typeof value === "object" && typeof (value as DurableObjectNamespace).idFromName === "function") bindings.set(value, name);
  }
  const protos = new Set([...bindings.keys()].map((ns) => Object.getPrototypeOf(ns) as Record<string, unknown>));
  for (const proto of protos) {
    for (const method of ["get", "getByName"]) {
      const original = proto[method];
      if (typeof original !== "function") continue;
      proto[method] = function (this: object, ...args: unknown[]) {
        const stub = original.apply(this, args) as object;
        return countingStub(bindings.get(this) ?? "DO", stub);
      };
    }
  }
}
patchNamespaces();

type Handler = { fetch(request: Request, env: any, ctx: ExecutionContext): Response | Promise<Response> };

/** The path of an absolute URL, read without a URL parse (the counters must not add work of their own per request). */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.search(/[?#]/);
  return url.slice(start, end < start ? undefined : end);
}

/** The Worker's default export, counting requests and serving `GET /__bench/counters`. */
export function instrumentHandler(handler: Handler): Handler {
  return {
    fetch(request, env, ctx) {
      const path = pathOf(request.url);
      if (path === "/__bench/counters") {
        settle(pending.length);
        return Response.json(counters);
      }
      if (path === "/__bench/restart") return restartRoute(new URL(request.url), env);
      if (!path.startsWith("/_edgeio/")) counters.workerRequests++;
      return handler.fetch(request, env, ctx);
    },
  };
}
