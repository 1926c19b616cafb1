/**
 * Orderly redeploys: `server:shutdown { reconnect_delay_ms }` to every connected socket on
 * every host (POST /v1/shutdown). The Worker finds the hosts (the host registry, or the
 * directories of the namespaces asked for) and calls each once; each host tells its own
 * sockets, in every namespace it holds (child namespaces included), with a per-socket delay
 * of `reconnectDelayMs` plus a uniform random share of `jitterMs`.
 */
import type { WireFrame } from "../protocol/engine-codec";
import { encodePacket, PacketType } from "../protocol/socketio-codec";
import { type EdgeioBindings, hostStub, roomStub } from "./bindings";
import { applyOnHosts } from "./cluster/apply";
import { registeredHosts } from "./host-registry";
import type { HostFailure, HostReply } from "./socketio/types";

export const SHUTDOWN_EVENT = "server:shutdown";

export interface ShutdownNotice {
  /** The smallest delay any socket is told. */
  reconnectDelayMs: number;
  /** Each socket's delay adds a uniform random 0..jitterMs (0: every socket is told the same). */
  jitterMs: number;
  /** Only these namespaces; absent: every namespace of every host. */
  namespaces?: string[];
}

export interface ShutdownResult {
  /** Hosts that answered. */
  hosts: number;
  /** Sockets told, on the hosts that answered. */
  sockets: number;
  /** Hosts that failed or did not answer in time (their clients were not told). */
  failures: HostFailure[];
}

/** A host's sockets, as its store lists them. */
export interface HostSockets {
  namespaceCounts(): Array<{ nsp: string }>;
  select(nsp: string, rooms: string[], except: string[]): Array<{ sid: string }>;
}

/** Host side: tells every socket of the host (of `notice.namespaces`, if given); answers how many. */
export function tellSockets(
  host: HostSockets,
  send: (sid: string, frames: WireFrame[]) => void,
  notice: ShutdownNotice,
  random: () => number = Math.random,
): HostReply {
  const namespaces = new Set(notice.namespaces ?? host.namespaceCounts().map((row) => row.nsp));
  let matched = 0;
  for (const nsp of namespaces) {
    for (const socket of host.select(nsp, [], [])) {
      const delay = notice.reconnectDelayMs + Math.floor(random() * (notice.jitterMs + 1));
      send(socket.sid, encodePacket({ type: PacketType.EVENT, nsp, data: [SHUTDOWN_EVENT, { reconnect_delay_ms: delay }] }));
      matched++;
    }
  }
  return { matched };
}

/** Worker side: every host concerned, once each, in parallel, each bounded by the cluster's host timeout. */
export async function announceShutdown(env: EdgeioBindings, notice: ShutdownNotice): Promise<ShutdownResult> {
  // The "/" directory too: hosts registered before the registry existed renew into it within a lease period.
  const lists = notice.namespaces
    ? notice.namespaces.map((nsp) => roomStub(env, nsp, null).hosts())
    : [registeredHosts(env), roomStub(env, "/", null).hosts()];
  const hosts = new Set((await Promise.all(lists)).flat());
  const results = await applyOnHosts(hosts, notice, (host, op) => hostStub(env, host).shutdown(op));
  let sockets = 0;
  const failures: HostFailure[] = [];
  for (const result of results) {
    if (result.ok) sockets += result.reply.matched;
    else failures.push({ host: result.host, error: result.error });
  }
  return { hosts: results.length - failures.length, sockets, failures };
}
