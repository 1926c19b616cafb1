/**
 * Messages between the orchestrator and the load-generator processes (Node IPC), validated
 * with zod on both sides so that a malformed message fails loudly instead of skewing figures.
 */
import { z } from "zod";

const transports = z.array(z.enum(["polling", "websocket"])).min(1);

export const CommandSchema = z.discriminatedUnion("op", [
  z.object({
    op: z.literal("connect"),
    urls: z.array(z.string().url()).min(1),
    indices: z.array(z.number().int().nonnegative()),
    /** Client i uses urls[floor(i / stride) % urls.length]: round robin that stays even across workers. */
    stride: z.number().int().positive(),
    transports,
    concurrency: z.number().int().positive(),
    timeoutMs: z.number().int().positive(),
  }),
  z.object({ op: z.literal("join"), room: z.string(), indices: z.array(z.number().int().nonnegative()) }),
  z.object({
    op: z.literal("expect"),
    run: z.string(),
    messages: z.number().int().positive(),
    indices: z.array(z.number().int().nonnegative()),
  }),
  z.object({
    op: z.literal("send"),
    run: z.string(),
    room: z.string(),
    index: z.number().int().nonnegative(),
    messages: z.number().int().positive(),
    intervalMs: z.number().nonnegative(),
  }),
  z.object({ op: z.literal("progress"), run: z.string() }),
  z.object({ op: z.literal("collect"), run: z.string() }),
  /** Connects long-polling clients and keeps them for `pollingRounds` (so the two phases are measured apart). */
  z.object({
    op: z.literal("pollingOpen"),
    urls: z.array(z.string().url()).min(1),
    indices: z.array(z.number().int().nonnegative()),
    stride: z.number().int().positive(),
    timeoutMs: z.number().int().positive(),
  }),
  /** Sequential emit-with-ack round trips on every open polling client (closeAll closes them). */
  z.object({ op: z.literal("pollingRounds"), rounds: z.number().int().positive(), timeoutMs: z.number().int().positive() }),
  z.object({ op: z.literal("closeAll") }),
  z.object({ op: z.literal("cpu") }),
]);
export type Command = z.infer<typeof CommandSchema>;

export const RequestSchema = z.object({ id: z.number().int(), command: CommandSchema });
export const ReplySchema = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number().int(), ok: z.literal(false), error: z.string() }),
]);

/** Failure tallies shared by connect and polling results. */
export const FailuresSchema = z.object({
  /** HTTP 400 {"code":1,"message":"Session ID unknown"} seen by a client (on connect or later). */
  sessionUnknown: z.number().int(),
  /** Every other failure, by message. */
  other: z.record(z.string(), z.number().int()),
});
export type Failures = z.infer<typeof FailuresSchema>;

export const ConnectResultSchema = z.object({
  ok: z.number().int(),
  failed: z.number().int(),
  failures: FailuresSchema,
  durationsMs: z.array(z.number()),
  startedAt: z.number(),
  finishedAt: z.number(),
});
export type ConnectResult = z.infer<typeof ConnectResultSchema>;

export const JoinResultSchema = z.object({ ok: z.number().int(), failed: z.number().int() });
export const SendResultSchema = z.object({ firstAt: z.number(), lastAt: z.number(), sent: z.number().int() });
export const ProgressResultSchema = z.object({ received: z.number().int() });

export const CollectResultSchema = z.object({
  members: z.number().int(),
  /** Deliveries counted, duplicates included. */
  delivered: z.number().int(),
  unique: z.number().int(),
  duplicates: z.number().int(),
  /** Expected (member, seq) pairs never received. */
  lost: z.number().int(),
  /** Deliveries to a client that is not a member, or for another run. */
  stray: z.number().int(),
  latenciesMs: z.array(z.number()),
  lastAt: z.number().nullable(),
});
export type CollectResult = z.infer<typeof CollectResultSchema>;

export const PollingOpenResultSchema = z.object({
  attempted: z.number().int(),
  connected: z.number().int(),
  failures: FailuresSchema,
});
export type PollingOpenResult = z.infer<typeof PollingOpenResultSchema>;

export const PollingResultSchema = z.object({
  /** Connected clients whose every round trip was acknowledged, with no disconnect. */
  completed: z.number().int(),
  failures: FailuresSchema,
  ackTimeouts: z.number().int(),
  disconnects: z.number().int(),
  rttsMs: z.array(z.number()),
});
export type PollingResult = z.infer<typeof PollingResultSchema>;

export const EmptyResultSchema = z.object({});
export const CpuResultSchema = z.object({ user: z.number(), system: z.number() });
