/**
 * POST /v1/emit/batch: many emits in one request, and one call per ConnectionHost for all of
 * them (not one per emit). Each distinct room is looked up once (its RoomDO's hosts), every
 * host gets the emits that concern it, in the request's order, as one `batch` operation.
 */
import { userRoom } from "../../durable-objects/socketio/private-rooms";
import type { EdgeioBindings } from "../../durable-objects/bindings";
import { clusterOf, eventOp, markViaHomes } from "../../durable-objects/cluster/cluster";
import { streamOf } from "../../durable-objects/cluster/host-conflation";
import type { EmitOp, Target } from "../../durable-objects/socketio/types";
import type { z } from "zod";
import type { emitBatchSchema } from "./schemas";

/** One emit of a batch: a /v1/emit body with one `namespace` (a /v1/emit body fits it too). */
export type BatchEmitInput = z.output<typeof emitBatchSchema>["emits"][number];

/** Distinct rooms (per namespace) a batch may target: each costs one RoomDO call. */
export const MAX_BATCH_ROOMS = 256;

export interface EmitResult {
  rooms: number;
  hosts: number;
  sockets: number;
  /** A later conflated emit of the same stream in this batch replaced it: it is not sent. */
  superseded?: true;
}

export interface BatchResult {
  ok: true;
  emits: number;
  /** ConnectionHosts called: one call each, whatever the number of emits. */
  hosts: number;
  sockets: number;
  results: EmitResult[];
}

export function targetOf(input: { namespace: string; rooms: string[]; users: string[]; except: string[] }): Target {
  const rooms = new Set([...input.rooms, ...input.users.map(userRoom)]);
  return { nsp: input.namespace, rooms: [...rooms], except: [...new Set(input.except)] };
}

/** The emit operation of one request item (conflated when it asks to be). */
export function emitOpOf(input: BatchEmitInput, target: Target = targetOf(input)): EmitOp {
  // `volatile` stays what /v1/emit always made it: accepted for parity, without effect.
  const op = eventOp(target, input.event, ...input.args);
  if (input.conflate) op.conflate = { key: input.conflate.key, intervalMs: input.conflate.interval_ms, event: input.event };
  return op;
}

/**
 * A batch is one instant: of several conflated emits of one stream (target, event, key) only
 * the last can ever be delivered, so the others are dropped here rather than by every host.
 */
function supersededOf(ops: EmitOp[]): Set<number> {
  const streams = ops.map((op) => (op.conflate ? streamOf(op) : null));
  const last = new Map<string, number>();
  streams.forEach((stream, index) => {
    if (stream !== null) last.set(stream, index);
  });
  const superseded = new Set<number>();
  streams.forEach((stream, index) => {
    if (stream !== null && last.get(stream) !== index) superseded.add(index);
  });
  return superseded;
}

/** The lookups a batch needs: one per distinct (namespace, room), or per namespace for whole-namespace emits. */
function lookupsOf(targets: Target[]): Map<string, Target> {
  const lookups = new Map<string, Target>();
  for (const target of targets) {
    const rooms = target.rooms.length === 0 ? [null] : target.rooms;
    for (const room of rooms) {
      lookups.set(JSON.stringify([target.nsp, room]), { nsp: target.nsp, rooms: room === null ? [] : [room], except: [] });
    }
  }
  return lookups;
}

/** Too many distinct rooms for one batch: the message, else null. */
export function batchRoomsProblem(inputs: BatchEmitInput[]): string | null {
  const count = lookupsOf(inputs.map(targetOf)).size;
  return count > MAX_BATCH_ROOMS ? `a batch may target at most ${MAX_BATCH_ROOMS} distinct rooms (got ${count})` : null;
}

export async function publishBatch(env: EdgeioBindings, inputs: BatchEmitInput[]): Promise<BatchResult> {
  const cluster = clusterOf(env);
  const ops = inputs.map((input) => emitOpOf(input));
  const lookups = lookupsOf(ops.map((op) => op.target));
  const hostsOf = new Map<string, Set<string>>();
  await Promise.all([...lookups].map(async ([key, target]) => hostsOf.set(key, await cluster.hostsFor(target))));

  // Each host's share of the batch, in order, remembering which item each op is.
  const perHost = new Map<string, Array<{ index: number; op: EmitOp }>>();
  const superseded = supersededOf(ops);
  const results: EmitResult[] = ops.map((op, index) => {
    if (superseded.has(index)) return { rooms: op.target.rooms.length, hosts: 0, sockets: 0, superseded: true };
    const hosts = new Set<string>();
    for (const key of lookupsOf([op.target]).keys()) for (const host of hostsOf.get(key) ?? []) hosts.add(host);
    // Sent per host below: marked here, where all of its hosts are known.
    markViaHomes(op, hosts);
    for (const host of hosts) {
      const share = perHost.get(host) ?? [];
      share.push({ index, op });
      perHost.set(host, share);
    }
    return { rooms: op.target.rooms.length, hosts: hosts.size, sockets: 0 };
  });

  await Promise.all(
    [...perHost].map(async ([host, share]) => {
      const batch = { kind: "batch" as const, target: share[0].op.target, ops: share.map((entry) => entry.op) };
      const [result] = await cluster.applyOn([host], batch).results;
      if (!result?.ok) return; // left out of the counts, as a host that fails a single emit
      share.forEach((entry, i) => {
        results[entry.index].sockets += result.reply.matchedEach?.[i] ?? 0;
      });
    }),
  );
  const sockets = results.reduce((sum, result) => sum + result.sockets, 0);
  return { ok: true, emits: ops.length, hosts: perHost.size, sockets, results };
}
