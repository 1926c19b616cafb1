/** CORS for the Engine.IO endpoint: an allowlist of origins, credentials allowed. */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { EdgeioConfig } from "../durable-objects/config";

export function isOriginAllowed(config: EdgeioConfig, origin: string): boolean {
  return config.corsOrigins.includes("*") || config.corsOrigins.includes(origin);
}

/** Built once per configuration, not per request (every polling request passes through it). */
const built = new WeakMap<EdgeioConfig, MiddlewareHandler>();

/**
 * CORS reflecting an allowed origin, so `withCredentials` works. Preflights go through hono's
 * CORS middleware. A GET or POST gets the same headers hono's would add (Allow-Origin when the
 * origin is allowed, Allow-Credentials, `Vary: Origin`), set on the endpoint's own response after
 * it is made: hono's sets them on a placeholder response first and then copies the real one into
 * a new Response, two extra responses per polling request.
 */
export function engineCors(config: EdgeioConfig): MiddlewareHandler {
  let middleware = built.get(config);
  if (!middleware) {
    middleware = corsOf(config);
    built.set(config, middleware);
  }
  return middleware;
}

function corsOf(config: EdgeioConfig): MiddlewareHandler {
  const preflight = cors({
    origin: (origin) => (origin && isOriginAllowed(config, origin) ? origin : null),
    credentials: true,
    allowMethods: ["GET", "POST", "OPTIONS"],
  });
  return async (c, next) => {
    if (c.req.method === "OPTIONS") return preflight(c, next);
    await next();
    const origin = c.req.header("origin");
    let response = c.res;
    try {
      addCorsHeaders(response.headers, origin && isOriginAllowed(config, origin) ? origin : null);
    } catch {
      // Immutable headers (a response passed through as is): add them to a copy.
      response = new Response(response.body, response);
      addCorsHeaders(response.headers, origin && isOriginAllowed(config, origin) ? origin : null);
      c.res = undefined;
      c.res = response;
    }
  };
}

function addCorsHeaders(headers: Headers, allowedOrigin: string | null): void {
  if (allowedOrigin) headers.set("Access-Control-Allow-Origin", allowedOrigin);
  headers.set("Access-Control-Allow-Credentials", "true");
  headers.append("Vary", "Origin");
}
