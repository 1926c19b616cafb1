/**
 * Where each HTTP feature is mounted. Each feature owns its module; this file only wires them.
 */
import type { Hono } from "hono";
import { apiRoutes } from "./api/routes";
import { devTokenRoutes } from "./dev-token";
import type { EdgeioConfig } from "../durable-objects/config";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HttpApp = Hono<{ Bindings: any }>;

/** Feature routes beside the Engine.IO endpoint (HTTP API, dev token endpoint, …). */
export function mountFeatureRoutes(http: HttpApp, _config: EdgeioConfig): void {
  // Features register here, e.g. http.route("/v1", apiRoutes(config)).
  http.route("/v1", apiRoutes());
  http.route("/", devTokenRoutes());
}
