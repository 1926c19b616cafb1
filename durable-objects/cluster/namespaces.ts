/**
 * One operation on several namespaces at once (`POST /v1/emit` with `namespaces`, the hooks'
 * `emitter.of([...])`): the same target rooms in each, one fan-out per namespace (a packet
 * names its namespace, so each is encoded for its own), answers summed.
 */
import type { EdgeioBindings } from "../bindings";
import type { HostOp, Target } from "../socketio/types";
import { clusterOf, matchedCount } from "./cluster";

/** At most this many namespaces in one operation (as many as one session may connect by default). */
export const MAX_TARGET_NAMESPACES = 16;

export interface FanoutSummary {
  /** Target rooms (the same in each namespace; 0: every socket). */
  rooms: number;
  /** Hosts called, summed over the namespaces (one call per host per namespace). */
  hosts: number;
  /** Sockets that matched on the hosts that answered. */
  sockets: number;
}

/** Applies `opFor(target)` in each of `namespaces` (deduplicated, in order) and sums the answers. */
export async function applyInNamespaces(
  env: EdgeioBindings,
  namespaces: readonly string[],
  selection: Omit<Target, "nsp">,
  opFor: (target: Target) => HostOp,
): Promise<FanoutSummary> {
  const unique = [...new Set(namespaces)];
  if (unique.length === 0 || unique.length > MAX_TARGET_NAMESPACES) {
    throw new RangeError(`an operation targets 1 to ${MAX_TARGET_NAMESPACES} namespaces, got ${unique.length}`);
  }
  const cluster = clusterOf(env);
  const answers = await Promise.all(unique.map((nsp) => cluster.apply(opFor({ nsp, ...selection })).results));
  return {
    rooms: selection.rooms.length,
    hosts: answers.reduce((sum, results) => sum + results.length, 0),
    sockets: answers.reduce((sum, results) => sum + matchedCount(results), 0),
  };
}
