/**
 * The cluster seam (socket.io's Adapter role): every cross-host path — broadcasts,
 * socketsJoin/Leave, disconnectSockets, the HTTP API, presence announcements, emit-to-user —
 * finds its hosts and applies its operation here. Each host selects its own matching
 * sockets, so a socket in several target rooms is reached once and `except` works across hosts.
 */
import { hostOfSocketId } from "../../protocol/ids";
import { encodePacket, PacketType } from "../../protocol/socketio-codec";
import { type EdgeioBindings, hostStub } from "../bindings";
import type { EmitOp, HostOp, Target } from "../socketio/types";
import { type HostCall, startApply } from "./apply";
import type { HostStubs } from "./host-stubs";
import { hostsFor, type RoomHostsOf } from "./hosts";
import type { ApplyOptions, Delivery, HostResult } from "./types";

export interface Cluster {
  /** The hosts holding sockets that match `target`. */
  hostsFor(target: Target): Promise<Set<string>>;
  /**
   * Applies `op` on every host holding matching sockets. `options.local` is always included
   * (its membership is fresher than the RoomDOs' while a join is in flight) and called directly.
   */
  apply(op: HostOp, options?: ApplyOptions): Delivery;
  /** Applies `op` on hosts the caller already knows (a RoomDO's or UserDO's own list). */
  applyOn(hosts: Iterable<string>, op: HostOp, options?: ApplyOptions): Delivery;
}

/**
 * `roomHosts`: how rooms' hosts are found (default: their RoomDO, asked each time). `stubs`: one
 * kept stub per host (host-stubs.ts), which lets an ordered sender pipeline its emits
 * (`Delivery.issued`); without, a new stub per call.
 */
export function clusterOf(env: EdgeioBindings, roomHosts?: RoomHostsOf, stubs?: HostStubs): Cluster {
  const call: HostCall = stubs ? (host, op) => stubs.call(host, op) : (host, op) => hostStub(env, host).apply(op);
  const applyOn = (hosts: Iterable<string>, op: HostOp, options?: ApplyOptions): Delivery => {
    stampEmits(op);
    const targets = new Set(hosts);
    markViaHomes(op, targets);
    // Synchronously before startApply applies it locally: what the local host notes is what it reaches.
    if (options?.local && targets.has(options.local.name)) options.local.claim?.(op);
    const delivery = startApply(targets, op, call, options);
    return {
      results: delivery.results.then((results) => logged(op, results)),
      settled: delivery.settled,
      // Every call is started (startApply calls synchronously); only emits are applied by a host
      // before it awaits anything (host-ops.ts), so only they may be overtaken by nothing later.
      issued: stubs && appliedAtOnce(op) ? Promise.resolve() : undefined,
    };
  };
  return {
    hostsFor: (target) => hostsFor(env, target, roomHosts),
    applyOn,
    apply(op, options) {
      const started = hostsFor(env, op.target, roomHosts).then((hosts) => {
        if (options?.local) hosts.add(options.local.name);
        return applyOn(hosts, op, options);
      });
      // Finding the hosts may fail (a RoomDO unreachable): `results` says so, `settled` stays quiet.
      return {
        results: started.then((delivery) => delivery.results),
        settled: started.then(
          (delivery) => delivery.settled,
          () => undefined,
        ),
        issued:
          stubs && appliedAtOnce(op)
            ? started.then(
                (delivery) => delivery.issued,
                () => undefined,
              )
            : undefined,
      };
    },
  };
}

/** An `emit` of `event` with `args`, encoded once for every host. */
export function eventOp(target: Target, event: string, ...args: unknown[]): EmitOp {
  return { kind: "emit", target, frames: encodePacket({ type: PacketType.EVENT, nsp: target.nsp, data: [event, ...args] }) };
}

/** Ids of this isolate's emits: a random prefix (drawn at first use: not in global scope) and a counter. */
let idPrefix: string | undefined;
let idCounter = 0;

/**
 * Gives each emit of `op` an id, the same on every host it reaches, unless it has one: set on
 * the op object itself, so a batch split per host (worker/api/batch.ts) shares ids. A socket
 * handed over between hosts during a broadcast gets each emit once by it (recovery/hand-over.ts).
 */
function stampEmits(op: HostOp): void {
  if (op.kind === "batch") for (const emit of op.ops) stampEmits(emit);
  if (op.kind !== "emit" || op.id !== undefined) return;
  idPrefix ??= crypto.randomUUID().slice(0, 13);
  op.id = `${idPrefix}${(idCounter++).toString(36)}`;
}

/**
 * Marks `op` `viaHomes` (OpOrigin) when it names socket ids and goes to the host each names
 * (hostsFor routes them so; a UserDO's rows name them so): another host it goes to then leaves
 * such a socket, recovered there, to its home, which delivers or forwards (host-ops.ts).
 */
export function markViaHomes(op: HostOp, hosts: ReadonlySet<string>): void {
  if (op.kind === "batch") for (const emit of op.ops) markViaHomes(emit, hosts);
  if (op.kind === "batch" || op.viaHomes) return;
  const homes = op.target.rooms.map(hostOfSocketId).filter((home) => home !== null);
  if (homes.length > 0 && homes.every((home) => hosts.has(home))) op.viaHomes = true;
}

/** An emit (or a batch of them) is sent by a host before it awaits anything (host-ops.ts). */
function appliedAtOnce(op: HostOp): boolean {
  return op.kind === "emit" || op.kind === "batch";
}

/** How many sockets matched on the hosts that answered. */
export function matchedCount(results: HostResult[]): number {
  return results.reduce((sum, result) => sum + (result.ok ? result.reply.matched : 0), 0);
}

function logged(op: HostOp, results: HostResult[]): HostResult[] {
  for (const result of results) if (!result.ok) console.error(`edgeio: ${op.kind} on host ${result.host} failed: ${result.error}`);
  return results;
}
