/**
 * The HTTP API for backends, mounted at /v1: publish to rooms and users, move or disconnect
 * sockets, read presence. Every route but /health needs `Authorization: Bearer <API key>`.
 * See docs/http-api.md for requests and responses.
 */
import { Hono, type Context, type Next } from "hono";
import { userRoom } from "../../durable-objects/socketio/private-rooms";
import type { z } from "zod";
import { BodyTooLargeError, readBoundedText } from "../../protocol/bounded-body";
import { JsonTooDeepError, MAX_JSON_DEPTH, parseJsonWithDepth } from "../../protocol/json-limits";
import { roomStub, userStub, type EdgeioBindings } from "../../durable-objects/bindings";
import { applyInNamespaces } from "../../durable-objects/cluster/namespaces";
import type { HostOp, Target } from "../../durable-objects/socketio/types";
import { webhookShards } from "../../durable-objects/webhooks/queue";
import { announceShutdown } from "../../durable-objects/shutdown";
import { clusterStats } from "../../durable-objects/stats/stub";
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from "../../durable-objects/stats/prometheus";
import { ConfigError } from "../../protocol/config-vars";
import { authenticate, bearerToken, type Principal } from "./auth";
import { webhookConfigFrom } from "../../durable-objects/webhooks/config";
import { apiConfigFrom, type ApiConfig } from "./config";
import { apiError } from "./errors";
import { batchRoomsProblem, emitOpOf, publishBatch } from "./batch";
import {
  deliveriesQuerySchema,
  disconnectSchema,
  emitBatchSchema,
  emitSchema,
  namespaceConflict,
  presenceQuerySchema,
  roomParamSchema,
  shutdownSchema,
  socketsJoinSchema,
  socketsLeaveSchema,
  userParamSchema,
  type Selector,
} from "./schemas";

type ApiEnv = EdgeioBindings & {
  /** Optional Cloudflare rate-limiting binding, keyed per API key. */
  API_RATE_LIMITER?: RateLimit;
} & Record<string, unknown>;

type Vars = { principal: Principal; apiConfig: ApiConfig };
type ApiContext = Context<{ Bindings: ApiEnv; Variables: Vars }>;

/** The room every connection of a user is in (the default app joins it on connect). */

function targetOf(selector: Selector): Target {
  const rooms = new Set([...selector.rooms, ...selector.users.map(userRoom)]);
  return { nsp: selector.namespace, rooms: [...rooms], except: [...new Set(selector.except)] };
}

/** The selector's namespaces: `namespaces` when given, else `[namespace]`. */
function namespacesOf(selector: Selector): string[] {
  return selector.namespaces ?? [selector.namespace];
}

function zodIssues(error: z.ZodError) {
  return error.issues.map((issue) => ({ path: issue.path, code: issue.code, message: issue.message }));
}

/**
 * The JSON body, read while it streams (never more than API_MAX_BODY bytes held, chunked or
 * not) and refused above MAX_JSON_DEPTH before parsing: deep nesting would overflow the stack
 * of the recursive validators and encoders downstream.
 */
async function readJson(c: ApiContext): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const { maxBody } = c.get("apiConfig");
  let text: string;
  try {
    text = await readBoundedText(c.req.raw, maxBody);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    return { ok: false, response: apiError(c, "payload_too_large", `the request body exceeds ${maxBody} bytes`) };
  }
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: parseJsonWithDepth(text, MAX_JSON_DEPTH) };
  } catch (error) {
    if (error instanceof JsonTooDeepError) {
      return { ok: false, response: apiError(c, "too_deep", `the request body nests deeper than ${MAX_JSON_DEPTH} levels`) };
    }
    return { ok: false, response: apiError(c, "invalid_json", "the request body is not valid JSON") };
  }
}

/** Parses the JSON body with `schema`, or answers 400 with the zod issues. */
async function body<S extends z.ZodType>(
  c: ApiContext,
  schema: S,
): Promise<{ ok: true; value: z.output<S> } | { ok: false; response: Response }> {
  const json = await readJson(c);
  if (!json.ok) return json;
  const conflict = namespaceConflict(json.value);
  if (conflict) return { ok: false, response: apiError(c, "invalid_request", "the request body is invalid", { issues: [conflict] }) };
  const result = schema.safeParse(json.value);
  if (!result.success)
    return { ok: false, response: apiError(c, "invalid_request", "the request body is invalid", { issues: zodIssues(result.error) }) };
  return { ok: true, value: result.data };
}

function parsed<S extends z.ZodType>(
  c: ApiContext,
  schema: S,
  input: unknown,
): { ok: true; value: z.output<S> } | { ok: false; response: Response } {
  const result = schema.safeParse(input);
  if (!result.success)
    return { ok: false, response: apiError(c, "invalid_request", "the request is invalid", { issues: zodIssues(result.error) }) };
  return { ok: true, value: result.data };
}

async function authMiddleware(c: ApiContext, next: Next) {
  let config: ApiConfig;
  try {
    config = apiConfigFrom(c.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return apiError(c, "invalid_configuration", "the API configuration is invalid", { issues: error.issues });
  }
  const challenge = { headers: { "WWW-Authenticate": 'Bearer realm="edgeio"' } };
  const token = bearerToken(c.req.header("authorization"));
  if (!token) return apiError(c, "unauthorized", "missing API key (Authorization: Bearer <key>)", challenge);
  const principal = await authenticate(config, token);
  if (!principal) return apiError(c, "unauthorized", "invalid API key", challenge);
  c.set("principal", principal);
  c.set("apiConfig", config);

  if (c.env.API_RATE_LIMITER) {
    const { success } = await c.env.API_RATE_LIMITER.limit({ key: principal.keyId });
    if (!success) return apiError(c, "rate_limited", "too many requests for this API key", { headers: { "Retry-After": "60" } });
  }
  return next();
}

/** Mutating routes need a full-access key; read-only keys get 403. */
async function requireFullAccess(c: ApiContext, next: Next) {
  if (c.get("principal").scope !== "full") return apiError(c, "forbidden", "this API key may only read");
  return next();
}

/** `opFor(target)` in each of the selector's namespaces (one fan-out each), answers summed. */
async function runIn(c: ApiContext, selector: Selector, opFor: (target: Target) => HostOp) {
  const { nsp: _nsp, ...selection } = targetOf(selector);
  return c.json({ ok: true, ...(await applyInNamespaces(c.env, namespacesOf(selector), selection, opFor)) });
}

export function apiRoutes() {
  const api = new Hono<{ Bindings: ApiEnv; Variables: Vars }>();

  // Public, so load balancers and uptime checks need no key. Says nothing secret.
  api.get("/health", (c) => {
    const checks: Record<string, string> = {};
    for (const [name, load] of [
      ["api", () => apiConfigFrom(c.env)],
      ["webhooks", () => webhookConfigFrom(c.env)],
    ] as const) {
      try {
        load();
        checks[name] = "ok";
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        checks[name] = "invalid_configuration";
      }
    }
    const ok = Object.values(checks).every((value) => value === "ok");
    return c.json({ ok, status: ok ? "ok" : "degraded", checks, time: new Date().toISOString() }, ok ? 200 : 503);
  });

  api.use("*", authMiddleware);
  api.on("POST", "*", requireFullAccess);

  api.post("/emit", async (c) => {
    const input = await body(c, emitSchema);
    if (!input.ok) return input.response;
    return runIn(c, input.value, (target) => emitOpOf(input.value, target));
  });

  // Many emits, one request (one count against the rate limiter), one call per host.
  api.post("/emit/batch", async (c) => {
    const input = await body(c, emitBatchSchema);
    if (!input.ok) return input.response;
    const problem = batchRoomsProblem(input.value.emits);
    if (problem) return apiError(c, "invalid_request", problem, { issues: [{ path: ["emits"], code: "too_big", message: problem }] });
    return c.json(await publishBatch(c.env, input.value.emits));
  });

  api.post("/sockets/join", async (c) => {
    const input = await body(c, socketsJoinSchema);
    if (!input.ok) return input.response;
    return runIn(c, input.value, (target) => ({ kind: "join", target, rooms: input.value.room }));
  });

  api.post("/sockets/leave", async (c) => {
    const input = await body(c, socketsLeaveSchema);
    if (!input.ok) return input.response;
    return runIn(c, input.value, (target) => ({ kind: "leave", target, rooms: input.value.room }));
  });

  api.post("/sockets/disconnect", async (c) => {
    const input = await body(c, disconnectSchema);
    if (!input.ok) return input.response;
    return runIn(c, input.value, (target) => ({ kind: "disconnect", target, close: input.value.close }));
  });

  // Orderly redeploys (docs/http-api.md): every connected socket hears `server:shutdown`.
  api.post("/shutdown", async (c) => {
    const input = await body(c, shutdownSchema);
    if (!input.ok) return input.response;
    const { reconnect_delay_ms, jitter_ms, namespaces } = input.value;
    const result = await announceShutdown(c.env, { reconnectDelayMs: reconnect_delay_ms, jitterMs: jitter_ms, namespaces });
    const { hosts, sockets, failures } = result;
    return c.json({ ok: failures.length === 0, hosts, sockets, failed: failures.length, failures, reconnect_delay_ms, jitter_ms });
  });

  api.get("/rooms/:room/presence", async (c) => {
    const param = parsed(c, roomParamSchema, c.req.param());
    if (!param.ok) return param.response;
    const query = parsed(c, presenceQuerySchema, c.req.query());
    if (!query.ok) return query.response;
    const { namespace, limit, cursor } = query.value;
    const { presence, counts, next } = await roomStub(c.env, namespace, param.value.room).presence({ limit, cursor });
    return c.json({ namespace, room: param.value.room, presence, counts, ...(next ? { next } : {}) });
  });

  api.get("/users/:id", async (c) => {
    const param = parsed(c, userParamSchema, c.req.param());
    if (!param.ok) return param.response;
    const info = await userStub(c.env, param.value.id).info(param.value.id);
    return c.json({ ...info, id: param.value.id });
  });

  // Cluster metrics: one call to the stats aggregator, none to any host (docs/http-api.md).
  api.get("/stats", async (c) => c.json(await clusterStats(c.env)));
  api.get("/metrics", async (c) => c.body(prometheusText(await clusterStats(c.env)), 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE }));

  api.get("/webhooks/deliveries", async (c) => {
    const query = parsed(c, deliveriesQuerySchema, c.req.query());
    if (!query.ok) return query.response;
    const shards = webhookShards(c.env);
    const [logs, pending] = await Promise.all([
      Promise.all(shards.map((shard) => shard.deliveries(query.value.limit))),
      Promise.all(shards.map((shard) => shard.pendingCount())),
    ]);
    const deliveries = logs
      .flat()
      .sort((a, b) => b.at.localeCompare(a.at))
      .slice(0, query.value.limit);
    return c.json({ deliveries, pending: pending.reduce((sum, n) => sum + n, 0) });
  });

  api.all("*", (c) => apiError(c, "not_found", `no route ${c.req.method} ${new URL(c.req.url).pathname}`));

  api.onError((error, c) => {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return apiError(c as ApiContext, "invalid_configuration", "the configuration is invalid", { issues: error.issues });
    }
    console.error("edgeio: API error", error);
    return apiError(c as ApiContext, "internal_error", "internal error");
  });
  return api;
}
