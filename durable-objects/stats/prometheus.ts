/**
 * The cluster's stats in the Prometheus text exposition format (version 0.0.4): one HELP and
 * one TYPE line per metric family, then its samples; gauges for what goes up and down,
 * counters (`_total`) for what only grows. Label values are escaped as the format requires.
 */
import type { ClusterStats } from "./types";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Record<string, string>;
type Family = { name: string; type: "gauge" | "counter"; help: string; samples: Array<[Labels, number]> };

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function sample(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([key, v]) => `${key}="${escapeLabel(v)}"`);
  return `${name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${Number.isFinite(value) ? value : 0}`;
}

export function prometheusText(stats: ClusterStats): string {
  const families: Family[] = [
    {
      name: "edgeio_connections",
      type: "gauge",
      help: "Engine.IO connections (sessions) open, as hosts last reported.",
      samples: [[{}, stats.connections]],
    },
    {
      name: "edgeio_sockets",
      type: "gauge",
      help: "Socket.IO sockets connected, per namespace.",
      samples: stats.namespaces.map((n) => [{ namespace: n.namespace }, n.sockets]),
    },
    {
      name: "edgeio_rooms",
      type: "gauge",
      help: "Distinct rooms with sockets, per namespace (sockets' own-id rooms not counted).",
      samples: stats.namespaces.map((n) => [{ namespace: n.namespace }, n.rooms]),
    },
    {
      name: "edgeio_users",
      type: "gauge",
      help: "Distinct users (socket.data.user.id) connected across hosts.",
      samples: [[{}, stats.users]],
    },
    {
      name: "edgeio_counts_exact",
      type: "gauge",
      help: "1 when users and rooms are exact, 0 when a host listed too many to send (then they are upper bounds).",
      samples: [[{}, stats.usersExact && stats.roomsExact ? 1 : 0]],
    },
    { name: "edgeio_hosts", type: "gauge", help: "ConnectionHosts with open connections.", samples: [[{}, stats.hosts.length]] },
    {
      name: "edgeio_host_connections",
      type: "gauge",
      help: "Engine.IO connections per host.",
      samples: stats.hosts.map((h) => [{ host: h.host }, h.connections]),
    },
    {
      name: "edgeio_host_sockets",
      type: "gauge",
      help: "Socket.IO sockets per host and namespace.",
      samples: stats.hosts.flatMap((h) =>
        Object.entries(h.namespaces).map(([namespace, n]): [Labels, number] => [{ host: h.host, namespace }, n]),
      ),
    },
    {
      name: "edgeio_host_last_report_timestamp_seconds",
      type: "gauge",
      help: "When each host last reported its load (Unix time).",
      samples: stats.hosts.map((h) => [{ host: h.host }, Date.parse(h.reportedAt) / 1000]),
    },
    {
      name: "edgeio_messages_received_total",
      type: "counter",
      help: "Engine.IO message packets received from clients.",
      samples: [[{}, stats.messages.inTotal]],
    },
    {
      name: "edgeio_messages_sent_total",
      type: "counter",
      help: "Engine.IO message packets sent to clients.",
      samples: [[{}, stats.messages.outTotal]],
    },
    {
      name: "edgeio_messages_received_per_minute",
      type: "gauge",
      help: "Message packets received in the last 60 s, as reported.",
      samples: [[{}, stats.messages.inPerMinute]],
    },
    {
      name: "edgeio_messages_sent_per_minute",
      type: "gauge",
      help: "Message packets sent in the last 60 s, as reported.",
      samples: [[{}, stats.messages.outPerMinute]],
    },
    {
      name: "edgeio_uptime_seconds",
      type: "gauge",
      help: "Seconds since the cluster last went from no host to some.",
      samples: [[{}, stats.uptimeSeconds]],
    },
    {
      name: "edgeio_report_interval_seconds",
      type: "gauge",
      help: "How often a host with changes reports (STATS_REPORT_MS): the staleness of these numbers.",
      samples: [[{}, stats.reportIntervalMs / 1000]],
    },
  ];
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const [labels, value] of family.samples) lines.push(sample(family.name, labels, value));
  }
  return `${lines.join("\n")}\n`;
}
