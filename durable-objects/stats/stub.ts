/**
 * Where the cluster's load is aggregated: a RoomDO under a reserved name (no new Durable Object
 * class, so no migration). Room objects are named `JSON.stringify([nsp, room])`, which always
 * starts with "[", so this name can never be a room's.
 */
import type { EdgeioBindings } from "../bindings";
import type { ClusterStats } from "./types";

export const STATS_OBJECT_NAME = "edgeio:cluster-stats";

export function statsStub(env: EdgeioBindings) {
  return env.ROOM.get(env.ROOM.idFromName(STATS_OBJECT_NAME));
}

/**
 * The cluster's numbers (connections, sockets per namespace, users, rooms, hosts, uptime,
 * messages per minute) as the hosts last reported them: one call to the aggregator, none to
 * any host. What `GET /v1/stats` answers; an app's own route can answer it too (`env`: the
 * Worker's or the app's, `c.env` in a route).
 */
export async function clusterStats(env: EdgeioBindings | Record<string, unknown>): Promise<ClusterStats> {
  const bindings = env as Partial<EdgeioBindings>;
  if (!bindings.ROOM) throw new TypeError("edgeio: env has no ROOM Durable Object binding (see the starter's wrangler.toml)");
  return (await statsStub(bindings as EdgeioBindings).clusterStats()) as ClusterStats;
}
