/**
 * The base of RoomDO: a PresenceObject that, in the one instance named STATS_OBJECT_NAME
 * (stub.ts), also aggregates the cluster's load. Reusing RoomDO's class for it needs no new
 * binding or migration; the tables are created only in that instance (on first use).
 */
import { PresenceObject } from "../presence/presence-object";

export type { PresenceEnv } from "../presence/presence-object";
import { ClusterLoad } from "./aggregate";
import { statsConfigFrom } from "./config";
import type { ClusterStats, HostLoad, ReportAnswer } from "./types";

export abstract class StatsAggregatorObject extends PresenceObject {
  private clusterLoad: ClusterLoad | undefined;

  /** A ConnectionHost's load report (host-load.ts sends it from its alarm). */
  reportLoad(report: HostLoad): ReportAnswer {
    return this.aggregate().record(report, Date.now());
  }

  /** The hosts' last reports, added up (`/v1/stats`, `/v1/metrics`, `clusterStats(env)`). */
  clusterStats(): ClusterStats {
    return this.aggregate().read(Date.now());
  }

  private aggregate(): ClusterLoad {
    // A host silent for 3 lease periods is gone, as rooms judge it (it renews from the same alarm).
    this.clusterLoad ??= new ClusterLoad(this.sql, { expiryMs: this.leaseExpiryMs, reportMs: statsConfigFrom(this.env).reportMs });
    return this.clusterLoad;
  }
}
