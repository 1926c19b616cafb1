import { describe, expect, it } from "vitest";
import { parsePrometheus, promValue } from "../../test/helpers/prometheus";
import { prometheusText } from "./prometheus";
import type { ClusterStats } from "./types";

const stats: ClusterStats = {
  time: "2026-11-27T12:00:00.000Z",
  startedAt: "2026-11-27T11:00:00.000Z",
  uptimeSeconds: 3600,
  reportIntervalMs: 5000,
  connections: 3,
  sockets: 4,
  users: 2,
  usersExact: true,
  rooms: 1,
  roomsExact: false,
  namespaces: [
    { namespace: "/", sockets: 3, rooms: 1 },
    { namespace: '/we"ird\\ns\nx', sockets: 1, rooms: 0 },
  ],
  hosts: [
    {
      host: "dfw:0",
      connections: 3,
      sockets: 4,
      namespaces: { "/": 3, '/we"ird\\ns\nx': 1 },
      users: 2,
      rooms: 1,
      reportedAt: "2026-11-27T11:59:58.000Z",
      since: "2026-11-27T11:00:00.000Z",
    },
  ],
  messages: { inPerMinute: 10, outPerMinute: 20, inTotal: 100, outTotal: 200 },
};

describe("prometheusText", () => {
  it("is valid exposition text: HELP and TYPE before samples, counters as _total, escaped labels", () => {
    const families = parsePrometheus(prometheusText(stats));
    expect(families.get("edgeio_connections")).toMatchObject({ type: "gauge", samples: [{ labels: {}, value: 3 }] });
    expect(families.get("edgeio_messages_sent_total")?.type).toBe("counter");
    expect(promValue(families, "edgeio_sockets", { namespace: '/we"ird\\ns\nx' })).toBe(1);
    expect(promValue(families, "edgeio_host_sockets", { host: "dfw:0", namespace: "/" })).toBe(3);
    expect(promValue(families, "edgeio_counts_exact")).toBe(0);
    expect(promValue(families, "edgeio_host_last_report_timestamp_seconds", { host: "dfw:0" })).toBe(
      Date.parse("2026-11-27T11:59:58.000Z") / 1000,
    );
    for (const family of families.values()) expect(family.help).not.toBe("");
  });

  it("the parser refuses what the format does not allow (so the check above can fail)", () => {
    expect(() => parsePrometheus("edgeio_x 1\n")).toThrow(/TYPE/);
    expect(() => parsePrometheus('# TYPE a gauge\na{b="c} 1\n')).toThrow();
    expect(() => parsePrometheus("# TYPE a counter\na 1\n")).toThrow(/_total/);
  });
});
