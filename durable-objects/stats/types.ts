/**
 * Cluster metrics, the shapes: what a ConnectionHost reports about its load (a few numbers and,
 * while small, the sets that make users and rooms unique across hosts), and what `/v1/stats`
 * answers. Reports are external input to the aggregator, so they are validated with zod.
 */
import { z } from "zod";

/** Distinct ids a host lists per report; beyond, it sends only a count (the totals become upper bounds). */
export const MAX_IDS_PER_REPORT = 5_000;

const count = z.number().int().min(0).max(1e12);
const idList = z.array(z.string().max(10_000)).max(MAX_IDS_PER_REPORT);

export const HostLoadSchema = z.object({
  host: z.string().min(1).max(256),
  /** The host's clock when it read its load. */
  at: z.number().int().min(0),
  /** Engine.IO sessions (connections). */
  sessions: count,
  namespaces: z.array(z.object({ nsp: z.string().min(1).max(10_000), sockets: count, rooms: count })).max(10_000),
  /** Distinct user ids (`socket.data.user.id`) on this host; null: more than MAX_IDS_PER_REPORT. */
  users: idList.nullable(),
  userCount: count,
  /** Distinct rooms as `JSON.stringify([nsp, room])` (sockets' own-id rooms left out); null: too many. */
  rooms: idList.nullable(),
  roomCount: count,
  /** Engine.IO message packets received from / sent to clients since the host's previous report. */
  messages: z.object({ in: count, out: count }),
});
export type HostLoad = z.infer<typeof HostLoadSchema>;

/** The aggregator's answer to a report: refused (with zod's issues) when invalid. */
export interface ReportAnswer {
  ok: boolean;
  error?: string;
}

export interface HostLoadSummary {
  host: string;
  connections: number;
  sockets: number;
  /** Sockets per namespace on this host. */
  namespaces: Record<string, number>;
  users: number;
  rooms: number;
  /** When the host last reported (ISO), and since when it has been listed without a gap. */
  reportedAt: string;
  since: string;
}

/** `GET /v1/stats` (and `clusterStats(env)`): the hosts' last reports, added up. */
export interface ClusterStats {
  time: string;
  /** When the cluster last went from no reporting host to some (ISO), null with none. */
  startedAt: string | null;
  uptimeSeconds: number;
  /** How often a host with changes reports (STATS_REPORT_MS): the numbers' staleness. */
  reportIntervalMs: number;
  connections: number;
  sockets: number;
  /** Distinct users across hosts; exact unless a host had more than MAX_IDS_PER_REPORT (then an upper bound). */
  users: number;
  usersExact: boolean;
  /** Distinct (namespace, room) pairs across hosts, sockets' own-id rooms left out; exactness as for users. */
  rooms: number;
  roomsExact: boolean;
  namespaces: Array<{ namespace: string; sockets: number; rooms: number }>;
  hosts: HostLoadSummary[];
  messages: {
    /** Packets reported in the last 60 s (reports arrive up to one interval late). */
    inPerMinute: number;
    outPerMinute: number;
    /** Since the aggregator's storage began (monotonic: Prometheus counters). */
    inTotal: number;
    outTotal: number;
  };
}
