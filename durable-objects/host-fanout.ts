/**
 * A ConnectionHost's own fan-outs: operations its handlers start (`io.to(room).emit`, …), applied
 * through the cluster in order per sender (cluster/sequence.ts), with this host applied directly
 * rather than over RPC to itself. Emits are pipelined: the next starts once the previous one's
 * calls are issued on this host's kept stubs (cluster/host-stubs.ts), not once they settled.
 */
import { type EdgeioBindings, hostStub, roomStub } from "./bindings";
import { type Cluster, clusterOf } from "./cluster/cluster";
import { HostStubs } from "./cluster/host-stubs";
import { RoomHostsCache } from "./cluster/room-hosts-cache";
import { Sequence } from "./cluster/sequence";
import type { HostReply } from "./cluster/types";
import type { AckCollection, HostOp } from "./socketio/types";

/** The name a ConnectionHost reports before the Worker first names it (connection-host.ts). */
export const UNNAMED_HOST = "unknown:0";

export interface LocalHost {
  readonly name: string;
  apply(op: HostOp): Promise<HostReply>;
  collectAcks(ackId: string): Promise<AckCollection>;
  /** Notes on an op what this host reaches itself, right before applying it (cluster/types.ts). */
  claim(op: HostOp): void;
}

export class HostFanout {
  /** In order per sender, as Socket.IO keeps them. */
  readonly sequence = new Sequence();
  /** This host as the cluster calls it directly (its name is known once the Worker first names it). */
  readonly local: LocalHost;
  /** The host lists of rooms this host broadcasts to, kept coherent by their RoomDOs (room-hosts-cache.ts). */
  readonly roomHosts: RoomHostsCache;
  /** One stub per target host, reused: this host's calls to a host arrive in order (E-order). */
  readonly stubs: HostStubs;
  private readonly cluster: Cluster;

  constructor(env: EdgeioBindings, hostName: () => string, ops: Omit<LocalHost, "name">) {
    this.roomHosts = new RoomHostsCache(async (nsp, room, key) => {
      const name = hostName();
      // A host not named yet cannot be told of changes: it asks every time.
      if (name === UNNAMED_HOST) return { hosts: await roomStub(env, nsp, room).hosts(), cacheable: false };
      return roomStub(env, nsp, room).cachedHosts(name, key);
    });
    this.stubs = new HostStubs((host) => hostStub(env, host));
    this.cluster = clusterOf(env, (nsp, room) => this.roomHosts.hosts(nsp, room), this.stubs);
    this.local = {
      get name() {
        return hostName();
      },
      apply: (op) => ops.apply(op),
      collectAcks: (ackId) => ops.collectAcks(ackId),
      claim: (op) => ops.claim(op),
    };
  }

  run(op: HostOp, options: { local?: boolean } = {}): Promise<void> {
    const local = { name: this.local.name, apply: (o: HostOp) => this.local.apply(o), claim: (o: HostOp) => this.local.claim(o) };
    const cluster = this.cluster;
    return this.sequence
      .run(() => (options.local ? cluster.applyOn([local.name], op, { local }) : cluster.apply(op, { local })))
      .then(
        () => undefined,
        (error: unknown) => {
          console.error("edgeio: fan-out failed", error);
          throw error;
        },
      );
  }
}
