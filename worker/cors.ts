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
    const response = withCorsHeaders(config, c.req.header("origin"), c.res);
    if (response !== c.res) {
      c.res = undefined;
      c.res = response;
    }
  };
}

/**
 * A GET or POST response of the endpoint with the CORS headers hono's middleware would add:
 * the same response, or a copy where its headers are immutable (a response passed through as is).
 */
export function withCorsHeaders(config: EdgeioConfig, origin: string | null | undefined, response: Response): Response {
  const allowedOrigin = origin && isOriginAllowed(config, origin) ? origin : null;
  try {
    addCorsHeaders(response.headers, allowedOrigin);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    addCorsHeaders(copy.headers, allowedOrigin);
    return copy;
  }
}

function addCorsHeaders(headers: Headers, allowedOrigin: string | null): void {
  if (allowedOrigin) headers.set("Access-Control-Allow-Origin", allowedOrigin);
  headers.set("Access-Control-Allow-Credentials", "true");
  headers.append("Vary", "Origin");
}
