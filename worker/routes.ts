/**
 * Where each HTTP feature is mounted. Each feature owns its module; this file only wires them.
 */
import { Hono } from "hono";
import type { AppEnv, EdgeioApp } from "../durable-objects/socketio/server";
import { apiRoutes } from "./api/routes";
import type { EdgeioConfig } from "../durable-objects/config";

// biome-ignore lint/suspicious/noExplicitAny: routes read vars and bindings of any app through c.env
export type HttpApp = Hono<{ Bindings: any }>;

/** Feature routes beside the Engine.IO endpoint (the HTTP API, …): part of every edgeio Worker. */
export function mountFeatureRoutes(http: HttpApp, _config: EdgeioConfig): void {
  // Features register here, e.g. http.route("/v1", apiRoutes(config)).
  http.route("/v1", apiRoutes());
}

/**
 * The application's own routes (`defineApp(setup, { routes })`), e.g. the default app's
 * `/dev/token`. Mounted after the core routes, so an app cannot shadow the Engine.IO endpoint or `/v1`.
 */
export function mountAppRoutes(http: HttpApp, app: EdgeioApp): void {
  if (!app.routes) return;
  const routes = new Hono<{ Bindings: AppEnv }>();
  app.routes(routes);
  http.route("/", routes);
}
