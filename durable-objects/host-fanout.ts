/**
 * A ConnectionHost's own fan-outs: operations its handlers start (`io.to(room).emit`, …), applied
 * through the cluster in order per sender (cluster/sequence.ts), with this host applied directly
 * rather than over RPC to itself.
 */
import type { EdgeioBindings } from "./bindings";
import { clusterOf } from "./cluster/cluster";
import { Sequence } from "./cluster/sequence";
import type { HostReply } from "./cluster/types";
import type { AckCollection, HostOp } from "./socketio/types";

export interface LocalHost {
  readonly name: string;
  apply(op: HostOp): Promise<HostReply>;
  collectAcks(ackId: string): Promise<AckCollection>;
}

export class HostFanout {
  /** In order per sender, as Socket.IO keeps them. */
  readonly sequence = new Sequence();
  /** This host as the cluster calls it directly (its name is known once the Worker first names it). */
  readonly local: LocalHost;

  constructor(
    private readonly env: EdgeioBindings,
    hostName: () => string,
    ops: Omit<LocalHost, "name">,
  ) {
    this.local = {
      get name() {
        return hostName();
      },
      apply: (op) => ops.apply(op),
      collectAcks: (ackId) => ops.collectAcks(ackId),
    };
  }

  run(op: HostOp, options: { local?: boolean } = {}): Promise<void> {
    const local = { name: this.local.name, apply: (o: HostOp) => this.local.apply(o) };
    const cluster = clusterOf(this.env);
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
