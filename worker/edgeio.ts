/**
 * Builds an edgeio Worker around an application: the HTTP entry (Hono) plus the Durable
 * Object classes that wrangler.toml binds. `worker/index.ts` does this for the default app;
 * your own app does the same (see examples/echo).
 */
import { Hono } from "hono";
import { createConnectionHost, createRoomDO, createUserDO } from "../durable-objects/app-classes";
import { hostStub, type EdgeioBindings } from "../durable-objects/bindings";
import type { EdgeioApp } from "../durable-objects/socketio/server";
import { configFrom, type EdgeioConfig } from "../durable-objects/config";
import { configIssues } from "../protocol/config-vars";
import { errorResponse } from "../protocol/http-errors";
import { engineCors, withCorsHeaders } from "./cors";
import { handleEngineRequest } from "./engine-route";
import { hostName, verifySid } from "../protocol/ids";
import { mountAppRoutes, mountFeatureRoutes } from "./routes";
import { statsConfigFrom } from "../durable-objects/stats/config";

export { RoomDO } from "../durable-objects/room";
export { UserDO } from "../durable-objects/user";
export { WebhookDO } from "../durable-objects/webhooks/webhook-do";
export { installClientEventWebhooks } from "../durable-objects/webhooks/client-events";
export { defineApp } from "../durable-objects/socketio/server";
export { ConfigError } from "../protocol/config-vars";
/** The hooks' emitter, for app code that has an env but no socket (HTTP routes, `waitUntil` work). */
export { clusterEmitter } from "../durable-objects/lifecycle/cluster-emitter";
export type {
  HookContext,
  HookEmitter,
  HookOperationResult,
  HookUser,
  LifecycleEvents,
  LifecycleHooks,
} from "../durable-objects/lifecycle/types";
export { clusterStats } from "../durable-objects/stats/stub";
export { prometheusText } from "../durable-objects/stats/prometheus";
export type { ClusterStats, HostLoadSummary } from "../durable-objects/stats/types";
export type { AppHttp, AppOptions, EdgeioApp, Server, Namespace, ParentNamespace, ServerOptions } from "../durable-objects/socketio/server";
export type { ConnectionStateRecoveryOptions, ExpiredSocket } from "../durable-objects/recovery/options";
/** Connection-state recovery from vars (RECOVERY_MAX_DISCONNECTION_MS, RECOVERY_SKIP_MIDDLEWARES): `server: (env) => ({ connectionStateRecovery: recoveryOptionFromEnv(env) })`. */
export { recoveryOptionFromEnv } from "../durable-objects/recovery/options";
export type { DefaultEventsMap, EventsMap, TypedBroadcastOperator } from "../durable-objects/socketio/typed-events";
export type { EventMiddleware, EventPacket } from "../durable-objects/socketio/event-middleware";
export type { NamespaceMatcher } from "../durable-objects/socketio/dynamic-namespaces";
export type { Socket } from "../durable-objects/socketio/socket";

type Env = EdgeioBindings & Record<string, unknown>;

/** The Engine.IO endpoint, with and without its trailing slash. */
const enginePathsOf = (config: EdgeioConfig) => [config.path, config.path.replace(/\/$/, "")];

function buildHttpApp(config: EdgeioConfig, app: EdgeioApp) {
  const http = new Hono<{ Bindings: Env }>();
  for (const path of enginePathsOf(config)) {
    http.use(path, async (c, next) => {
      // A 101 response's headers are immutable, and browsers do not apply CORS to WebSockets.
      if (c.req.header("upgrade")?.toLowerCase() === "websocket") return next();
      return engineCors(config)(c, next);
    });
    http.all(path, (c) => handleEngineRequest(c.req.raw, c.env, config, c.executionCtx as ExecutionContext));
  }

  mountFeatureRoutes(http, config);

  // Host statistics for tests and benchmarks; never exposed in production.
  http.get("/_edgeio/hosts", async (c) => {
    if (config.environment === "production") return c.notFound();
    const colo = c.req.query("colo") ?? "local";
    const hosts = Array.from({ length: config.hostPoolSize }, (_, i) => hostName(colo, i));
    return c.json(await Promise.all(hosts.map((host) => hostStub(c.env, host).stats())));
  });

  // Tests only: make one host stop answering the cluster's calls (`?host=…&stalled=1|0`).
  http.post("/_edgeio/test/stall", async (c) => {
    if (config.environment !== "test") return c.notFound();
    const host = c.req.query("host");
    if (!host || host.length > 256) return errorResponse(400, "bad_request", "host is required");
    await hostStub(c.env, host).testStall(c.req.query("stalled") !== "0");
    return c.json({ host, stalled: c.req.query("stalled") !== "0" });
  });

  // Tests only: end a session as a dropped connection would (`?sid=…`; connection-state recovery tests).
  http.post("/_edgeio/test/drop", async (c) => {
    if (config.environment !== "test") return c.notFound();
    const sid = c.req.query("sid") ?? "";
    const host = await verifySid(config.sidSecret, sid);
    if (!host) return errorResponse(400, "bad_request", "a valid sid is required");
    await hostStub(c.env, host).testDrop(sid);
    return c.json({ host, dropped: sid });
  });

  // Last, so the app's own routes (defineApp's `routes` option) cannot shadow the core ones.
  mountAppRoutes(http, app);

  http.onError((error, _c) => {
    console.error("edgeio: unhandled error", error);
    return errorResponse(500, "internal_error", "internal error");
  });
  return http;
}

const apps = new WeakMap<object, { http: Hono<{ Bindings: Env }>; config: EdgeioConfig; enginePaths: string[] }>();

/**
 * The hot paths of the Engine.IO endpoint — a WebSocket handshake, a long-polling GET or POST —
 * are answered without Hono's routing, as Hono would answer them: the app's routes are mounted
 * after the engine path, so none could take them; CORS does not apply to WebSocket upgrades, and
 * a GET or POST gets the headers `engineCors` adds. Preflights and other methods go through Hono.
 * The path is read without a URL parse.
 */
function engineFastPath(request: Request, enginePaths: string[]): "upgrade" | "http" | null {
  const upgrade = request.headers.get("upgrade")?.toLowerCase() === "websocket";
  if (!upgrade && request.method !== "GET" && request.method !== "POST") return null;
  const url = request.url;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return null;
  let end = url.indexOf("?", start);
  if (end < 0) end = url.indexOf("#", start);
  if (!enginePaths.includes(url.slice(start, end < 0 ? undefined : end))) return null;
  return upgrade ? "upgrade" : "http";
}

async function engineRequest(request: Request, env: Env, config: EdgeioConfig, ctx: ExecutionContext): Promise<Response> {
  try {
    return await handleEngineRequest(request, env, config, ctx);
  } catch (error) {
    console.error("edgeio: unhandled error", error);
    return errorResponse(500, "internal_error", "internal error");
  }
}

export function createWorker(app: EdgeioApp) {
  return {
    ConnectionHost: createConnectionHost(app),
    // Bound to the app's lifecycle hooks: the entry exports them as RoomDO / UserDO.
    RoomDO: createRoomDO(app.hooks),
    UserDO: createUserDO(app.hooks),
    handler: {
      fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
        let built = apps.get(env);
        if (!built) {
          // The core's and the app's configuration, checked together so one answer names every bad field.
          const issues = [
            ...configIssues(() => configFrom(env)),
            ...configIssues(() => statsConfigFrom(env)),
            ...configIssues(() => app.validate?.(env)),
          ];
          if (issues.length > 0) {
            console.error(`edgeio: invalid configuration:\n  - ${issues.join("\n  - ")}`);
            return errorResponse(500, "invalid_configuration", "the service's configuration is invalid", issues);
          }
          const config = configFrom(env);
          built = { http: buildHttpApp(config, app), config, enginePaths: enginePathsOf(config) };
          apps.set(env, built);
        }
        const fast = engineFastPath(request, built.enginePaths);
        if (fast === "upgrade") return engineRequest(request, env, built.config, ctx);
        if (fast === "http") {
          const { config } = built;
          return engineRequest(request, env, config, ctx).then((response) =>
            withCorsHeaders(config, request.headers.get("origin"), response),
          );
        }
        return built.http.fetch(request, env, ctx);
      },
    } satisfies ExportedHandler<Env>,
  };
}
