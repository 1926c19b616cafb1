/** CORS for the Engine.IO endpoint: an allowlist of origins, credentials allowed. */
import { cors } from "hono/cors";
import type { EdgeioConfig } from "../durable-objects/config";

export function isOriginAllowed(config: EdgeioConfig, origin: string): boolean {
  return config.corsOrigins.includes("*") || config.corsOrigins.includes(origin);
}

type CorsMiddleware = ReturnType<typeof cors>;
/** Built once per configuration, not per request (every polling request passes through it). */
const built = new WeakMap<EdgeioConfig, CorsMiddleware>();

/** hono's CORS middleware, reflecting an allowed origin so `withCredentials` works. */
export function engineCors(config: EdgeioConfig): CorsMiddleware {
  let middleware = built.get(config);
  if (!middleware) {
    middleware = corsOf(config);
    built.set(config, middleware);
  }
  return middleware;
}

function corsOf(config: EdgeioConfig): CorsMiddleware {
  return cors({
    origin: (origin) => (origin && isOriginAllowed(config, origin) ? origin : null),
    credentials: true,
    allowMethods: ["GET", "POST", "OPTIONS"],
  });
}
