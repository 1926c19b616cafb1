/**
 * The calling side of the operations that bring answers back across hosts: fetchSockets,
 * broadcasts with acknowledgements and serverSideEmit. Every host is asked once, in
 * parallel, each under a timeout; what answered is returned together with the hosts that did
 * not (`failures`), so a host that is gone costs a bounded wait and never hangs the caller.
 */
import type { AckCollection, ClusterCalls, HostFailure, HostOp, HostResult, RemoteSocketDetails, Target } from "../socketio/types";
import { withTimeout } from "./apply";
import type { Cluster } from "./cluster";
import type { Sequence } from "./sequence";
import { DEFAULT_HOST_TIMEOUT_MS, type LocalHost } from "./types";

/**
 * Added to an acknowledgement timeout for the calls around it: the hosts time their clients
 * out themselves (their alarm), then the answers still have to travel back.
 */
export const ACK_TRANSIT_MS = 1_000;

export interface GatherDeps {
  cluster: Cluster;
  /** The calling host, applied directly. */
  self: LocalHost & { collectAcks(ackId: string): Promise<AckCollection> };
  /** A remote host's gathered acknowledgements (an RPC). */
  collectAcks(host: string, ackId: string): Promise<AckCollection>;
  /** The caller's broadcasts, in order (an emit with acks is ordered with its plain emits). */
  sequence: Sequence;
}

export function clusterCalls(deps: GatherDeps): ClusterCalls {
  const { cluster, self } = deps;
  /** Every host concerned by `op` (this one included), or only this one. */
  const reach = (op: HostOp, local: boolean | undefined, timeoutMs: number) =>
    local ? cluster.applyOn([self.name], op, { local: self, timeoutMs }) : cluster.apply(op, { local: self, timeoutMs });

  return {
    async fetchSockets(target, { local, timeoutMs = DEFAULT_HOST_TIMEOUT_MS }) {
      return socketsOf(await reach({ kind: "fetch", target }, local, timeoutMs).results);
    },

    async emitWithAck(target, event, args, { local, timeoutMs }) {
      const ackId = crypto.randomUUID();
      const deadline = Date.now() + timeoutMs + ACK_TRANSIT_MS;
      const op: HostOp = { kind: "emitWithAck", target, ackId, event, args, timeoutMs };
      const sent = await deps.sequence.run(() => reach(op, local, timeoutMs + ACK_TRANSIT_MS));
      const collected = await Promise.all(
        sent.map(async (result): Promise<HostResult<AckCollection>> => {
          if (!result.ok) return result;
          if (result.reply.matched === 0) return { host: result.host, ok: true, reply: { responses: [], expected: 0 } };
          const call = result.host === self.name ? self.collectAcks(ackId) : deps.collectAcks(result.host, ackId);
          const outcome = await withTimeout(call, Math.max(0, deadline - Date.now()));
          return outcome.ok
            ? { host: result.host, ok: true, reply: outcome.value }
            : { host: result.host, ok: false, error: outcome.error };
        }),
      );
      return ackOutcome(collected);
    },

    async serverSideEmit(nsp, event, args, ackTimeoutMs) {
      const namespace: Target = { nsp, rooms: [], except: [] };
      // "The other servers", as Socket.IO: every host with sockets of the namespace but the sender.
      const hosts = await cluster.hostsFor(namespace);
      hosts.delete(self.name);
      const op: HostOp = { kind: "serverEmit", target: namespace, event, args, ackTimeoutMs };
      const timeoutMs = ackTimeoutMs === undefined ? DEFAULT_HOST_TIMEOUT_MS : ackTimeoutMs + ACK_TRANSIT_MS;
      return serverSideOutcome(await cluster.applyOn(hosts, op, { timeoutMs }).results);
    },
  };
}

/** fetchSockets: every described socket, and the hosts that did not answer. */
export function socketsOf(results: HostResult[]): { sockets: RemoteSocketDetails[]; failures: HostFailure[] } {
  return {
    sockets: results.flatMap((result) => (result.ok ? (result.reply.sockets ?? []) : [])),
    failures: failuresOf(results),
  };
}

/**
 * A broadcast with acknowledgements: every answer, and whether every socket answered in time
 * on every host (a host that fails, times out or lost the ack id makes it incomplete).
 */
export function ackOutcome(results: HostResult<AckCollection>[]): { responses: unknown[]; complete: boolean; failures: HostFailure[] } {
  const failures = failuresOf(results);
  for (const result of results) if (result.ok && result.reply.expected < 0) failures.push({ host: result.host, error: "lost" });
  const responses = results.flatMap((result) => (result.ok ? result.reply.responses : []));
  const complete = failures.length === 0 && results.every((result) => result.ok && result.reply.responses.length === result.reply.expected);
  return { responses, complete, failures };
}

/** serverSideEmit with an ack: one answer per other host expected. */
export function serverSideOutcome(results: HostResult[]): { responses: unknown[]; expected: number; failures: HostFailure[] } {
  return {
    responses: results.flatMap((result) => (result.ok ? (result.reply.responses ?? []) : [])),
    expected: results.length,
    failures: failuresOf(results),
  };
}

function failuresOf<R>(results: HostResult<R>[]): HostFailure[] {
  return results.flatMap((result) => (result.ok ? [] : [{ host: result.host, error: result.error }]));
}
