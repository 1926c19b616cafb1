/** CORS for the Engine.IO endpoint: an allowlist of origins, credentials allowed. */
import { cors } from "hono/cors";
import type { EdgeioConfig } from "../durable-objects/config";

export function isOriginAllowed(config: EdgeioConfig, origin: string): boolean {
  return config.corsOrigins.includes("*") || config.corsOrigins.includes(origin);
}

/** hono's CORS middleware, reflecting an allowed origin so `withCredentials` works. */
export function engineCors(config: EdgeioConfig) {
  return cors({
    origin: (origin) => (origin && isOriginAllowed(config, origin) ? origin : null),
    credentials: true,
    allowMethods: ["GET", "POST", "OPTIONS"],
  });
}
