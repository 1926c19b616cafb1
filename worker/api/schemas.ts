/** zod schemas for every request body and parameter of the HTTP API. */
import { z } from "zod";
import { eventNameProblem } from "../../durable-objects/socketio/emittable";
import { BinaryMarkerError, decodeBinaryMarkers } from "../../protocol/binary-markers";
import { CONFLATE_MAX_INTERVAL_MS, CONFLATE_MAX_KEY_LENGTH, CONFLATE_MIN_INTERVAL_MS } from "../../protocol/conflation";
import { MAX_TARGET_NAMESPACES } from "../../durable-objects/cluster/namespaces";

const name = z.string().min(1).max(256);
const nameList = (max: number) => z.array(name).max(max);
const roomOrRooms = z.union([name, nameList(100).min(1)]).transform((value) => (typeof value === "string" ? [value] : value));

const namespaceName = z
  .string()
  .regex(/^\/[^\s]*$/, "must start with /")
  .max(256);
export const namespaceSchema = namespaceName.default("/");

/** Several namespaces at once (`namespaces: ["/", "/admin"]`), instead of `namespace`. */
const namespaceList = z
  .array(namespaceName)
  .min(1)
  .max(MAX_TARGET_NAMESPACES)
  .refine((list) => new Set(list).size === list.length, "must not repeat a namespace");

export const userIdSchema = z.union([name, z.number().int().transform(String)]);

/** Which sockets an operation targets, as `io.of(namespace).to(rooms).except(except)`. */
const selector = {
  namespace: namespaceSchema,
  /** Instead of `namespace`: the same operation in each of these namespaces. */
  namespaces: namespaceList.optional(),
  /** Any of these rooms (a socket id is a room too); with `users` empty too: every socket. */
  rooms: nameList(100).default([]),
  /** Every connection of these users (the room `user:<id>`). */
  users: z.array(userIdSchema).max(100).default([]),
  /** None of these rooms or socket ids. */
  except: nameList(1000).default([]),
};

const conflateSchema = z
  .object({
    key: z.string().min(1).max(CONFLATE_MAX_KEY_LENGTH),
    interval_ms: z.number().int().min(CONFLATE_MIN_INTERVAL_MS).max(CONFLATE_MAX_INTERVAL_MS),
  })
  .strict();
/**
 * `namespace` and `namespaces` are alternatives: a body with both is ambiguous, so refused (an
 * issue on `namespaces`, or null). Checked on the raw body, where a defaulted `namespace` is not
 * there yet, so the schemas stay plain objects.
 */
export function namespaceConflict(body: unknown): { path: string[]; code: "custom"; message: string } | null {
  const value = body as { namespace?: unknown; namespaces?: unknown } | null;
  if (!value || typeof value !== "object" || value.namespace === undefined || value.namespaces === undefined) return null;
  return { path: ["namespaces"], code: "custom", message: "give either namespace or namespaces, not both" };
}

export const emitSchema = z
  .object({
    ...selector,
    // The same check as every server-side emit (durable-objects/socketio/emittable.ts).
    event: name.superRefine((event, ctx) => {
      const problem = eventNameProblem(event);
      if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
    }),
    args: z
      .array(z.json())
      .max(64)
      .default([])
      .transform((args, ctx) => {
        try {
          return decodeBinaryMarkers(args) as unknown[];
        } catch (error) {
          if (!(error instanceof BinaryMarkerError)) throw error;
          ctx.addIssue({ code: "custom", path: error.path, message: error.message });
          return z.NEVER;
        }
      }),
    /** Accepted for API parity; every broadcast is fire-and-forget already. */
    volatile: z.boolean().default(false),
    /** Latest value per key, at most once per interval per member (docs/http-api.md#conflated-feeds). */
    conflate: conflateSchema.optional(),
  })
  .strict();

/** Most emits in one POST /v1/emit/batch (the body limit, API_MAX_BODY, applies too). */
export const MAX_BATCH_EMITS = 1000;

/**
 * All or nothing: one invalid emit refuses the whole batch (issues name it: ["emits", i, …]).
 * An item names one `namespace` (no `namespaces`): a batch is planned per (namespace, room).
 */
export const emitBatchSchema = z
  .object({
    emits: z
      .array(emitSchema.omit({ namespaces: true }))
      .min(1)
      .max(MAX_BATCH_EMITS),
  })
  .strict();

export const socketsJoinSchema = z.object({ ...selector, room: roomOrRooms }).strict();
export const socketsLeaveSchema = socketsJoinSchema;
export const disconnectSchema = z.object({ ...selector, close: z.boolean().default(false) }).strict();

/** POST /v1/shutdown: what every connected socket is told (`server:shutdown { reconnect_delay_ms }`). */
export const shutdownSchema = z
  .object({
    /** The smallest delay a socket is told, ms (at most 10 minutes). */
    reconnect_delay_ms: z.number().int().min(0).max(600_000).default(5_000),
    /** Each socket's delay adds a uniform random 0..jitter_ms (0: the same delay for all; the client-shim adds its own jitter). */
    jitter_ms: z.number().int().min(0).max(600_000).default(0),
    /** Only these namespaces (their sockets on every host); absent: every namespace. */
    namespaces: z
      .array(
        z
          .string()
          .regex(/^\/[^\s]*$/, "must start with /")
          .max(256),
      )
      .min(1)
      .max(100)
      .optional(),
  })
  .strict();

export const presenceQuerySchema = z.object({
  namespace: namespaceSchema,
  /** Users per page (the room's counts are always exact, for the whole room). */
  limit: z.coerce.number().int().min(1).max(1000).default(1000),
  /** The previous page's `next`. */
  cursor: z.string().min(1).max(2048).optional(),
});
export const roomParamSchema = z.object({ room: name });
export const userParamSchema = z.object({ id: name });
export const deliveriesQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

export type Selector = { namespace: string; namespaces?: string[]; rooms: string[]; users: string[]; except: string[] };
