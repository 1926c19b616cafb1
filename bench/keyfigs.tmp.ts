import { readFileSync } from "node:fs";
import { figures } from "./report-engine.ts";
import { costOf, perOperation } from "./lib/work.ts";
const r = JSON.parse(readFileSync(process.argv[2], "utf8"));
for (const s of r.systems) {
  const f = s.connect || s.broadcast.length ? figures(s, 100) : null;
  const b100 = s.broadcast.find((b: any) => b.size === 100 && b.mode === "burst");
  const p100 = s.broadcast.find((b: any) => b.size === 100 && b.mode === "paced");
  const lossTotals = s.broadcast.reduce((a: any, b: any) => ({ lost: a.lost + b.lost, dup: a.dup + b.duplicates, n: a.n + b.delivered }), {
    lost: 0,
    dup: 0,
    n: 0,
  });
  console.log(
    s.id,
    JSON.stringify(
      {
        f,
        errors: s.errors,
        loss: lossTotals,
        pollP50: s.polling?.rttMs.p50,
        pollConnected: s.polling ? `${s.polling.connected}/${s.polling.attempted}` : null,
        sessionUnknown: s.polling?.sessionUnknown,
        memPerConnKiB: s.idle ? s.idle.bytesPerConnection / 1024 : null,
        p100p50: p100?.latencyMs.p50,
        wakesPerConnMin: s.idle?.wakes?.wakesPerConnectionMinute,
        connectWork: s.connect?.work ? perOperation(s.connect.work, s.connect.ok) : null,
        bcastWork: b100?.work ? perOperation(b100.work, b100.messages) : null,
        rtWork: s.polling?.work ? perOperation(s.polling.work, s.polling.rttMs.count) : null,
        costPerMDeliveries: b100?.work ? costOf(perOperation(b100.work, b100.delivered)) * 1e6 : null,
        costPer1kConnHours: s.idle?.work ? costOf(perOperation(s.idle.work, (s.idle.connections * s.idle.seconds) / 3600)) * 1000 : null,
        costPer1kConnects: s.connect?.work ? costOf(perOperation(s.connect.work, s.connect.ok)) * 1000 : null,
      },
      (k, v) => (typeof v === "number" ? Math.round(v * 1000) / 1000 : k === "detail" ? undefined : v),
    ),
  );
}
