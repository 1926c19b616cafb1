/**
 * Reconnect storm after a simulated deploy (issue 12; `npm run bench -- --storm [--quick]`):
 * N socket.io-client 4.x sockets (WebSocket) with connection-state recovery on are in one room
 * of edgeio under `wrangler dev` while `POST /v1/emit` publishes numbered events to it. Then
 * `POST /v1/shutdown` (what `npm run deploy` calls first) and every session dropped at once as
 * a deploy drops them (ENVIRONMENT=test route `POST /_edgeio/test/drop`). The clients reconnect
 * by themselves with socket.io-client's own backoff. Measured: time until every socket is back
 * (and how many recovered), and per socket the events lost and duplicated among those the API
 * answered 2xx (expected 0 / 0). Runs in this process, not in the load-generator pool.
 */
import { io, type Socket } from "socket.io-client";
import { startService } from "../test/helpers/service.ts";
import { nowMs, sleep, summarize, type Summary } from "./lib/stats.ts";
import { START_TIMEOUT_MS } from "./systems/edgeio.ts";

const KEY = "api-key-bench-reconnect-storm-0001";
const ROOM = "storm";
/** Publisher pace (sequential emits, one in flight) and socket.io-client's reconnect backoff. */
const PUBLISH_INTERVAL_MS = 50;
const RECONNECT = { reconnectionDelay: 1000, reconnectionDelayMax: 5000, randomizationFactor: 0.5 };
const CONNECT_CONCURRENCY = 50;

export interface StormFigures {
  sockets: number;
  /** HOST_POOL_SIZE: with more than one host, most reconnects land on another host than before. */
  hostPool: number;
  recoveryWindowMs: number;
  reconnect: typeof RECONNECT;
  /** How long the drop requests took (all sent at once). */
  dropPhaseS: number;
  /** From the first drop to the last socket's "connect". */
  timeToAllBackS: number;
  /** Per socket, from the first drop to its "connect" (ms). */
  backMs: Summary;
  /**
   * Sockets whose connection closed before the drop phase began: the host's object restarted
   * under them (e.g. a `wrangler dev` reload on a file change), unnoticed by the host.
   */
  disconnectedBeforeDrop: number;
  /** Per socket, from its own "disconnect" to its "connect" (ms): mostly socket.io-client's backoff. */
  awayMs: Summary;
  /** Sockets whose reconnect reached another host than the one they were on (taken over through the cluster). */
  crossHost: number;
  recovered: number;
  fresh: number;
  notBack: number;
  /** Emits answered 2xx (each to every socket), and those that failed (none expected: the API stays up). */
  published: number;
  publishFailed: number;
  expectedDeliveries: number;
  lost: number;
  /** Of `lost`, those of sockets that came back through another host (taken over in two phases: expected 0 too). */
  lostCrossHost: number;
  duplicates: number;
  outOfOrderSockets: number;
}

interface Client {
  socket: Socket;
  ticks: number[];
  hostBefore?: string;
  hostAfter?: string;
  droppedAt?: number;
  backAt?: number;
  recovered?: boolean;
}

async function post(url: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", Authorization: `Bearer ${KEY}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

function connectOne(url: string): Promise<Client> {
  const socket = io(url, { transports: ["websocket"], forceNew: true, reconnection: true, ...RECONNECT });
  const client: Client = { socket, ticks: [] };
  socket.on("tick", (n: number) => client.ticks.push(n));
  return new Promise((resolve, reject) => {
    socket.once("connect", () => {
      socket.off("connect_error", reject);
      resolve(client);
    });
    socket.once("connect_error", reject);
  });
}

/** The ConnectionHost an Engine.IO sid names (sids name their host). */
function hostOfSid(sid: string): string {
  return Buffer.from(sid.split(".")[0], "base64url").toString();
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = nowMs() + ms;
  while (!check()) {
    if (nowMs() > deadline) return false;
    await sleep(20);
  }
  return true;
}

export async function reconnectStorm(sockets: number, hostPool: number, log: (line: string) => void): Promise<StormFigures> {
  const recoveryWindowMs = 120_000;
  const service = await startService({
    environment: "test",
    vars: {
      RECOVERY_MAX_DISCONNECTION_MS: recoveryWindowMs,
      API_KEYS: KEY,
      HOST_POOL_SIZE: hostPool,
      PRESENCE_LEASE_MS: 60_000,
      PRESENCE_GRACE_MS: 5_000,
    },
    readyTimeoutMs: START_TIMEOUT_MS,
  });
  const clients: Client[] = [];
  try {
    for (let start = 0; start < sockets; start += CONNECT_CONCURRENCY) {
      const batch = Array.from({ length: Math.min(CONNECT_CONCURRENCY, sockets - start) }, () => connectOne(service.url));
      clients.push(...(await Promise.all(batch)));
    }
    await Promise.all(clients.map((client) => client.socket.timeout(10_000).emitWithAck("join", ROOM)));
    log(`  ${clients.length} sockets in "${ROOM}"`);

    // The publisher runs through the whole storm; only 2xx-answered events are expected.
    const published: number[] = [];
    let publishFailed = 0;
    let publishing = true;
    const publisher = (async () => {
      for (let n = 0; publishing; n++) {
        const response = await post(service.url, "/v1/emit", { event: "tick", rooms: [ROOM], args: [n] }).catch(() => null);
        if (response?.ok) published.push(n);
        else publishFailed++;
        await response?.arrayBuffer();
        await sleep(PUBLISH_INTERVAL_MS);
      }
    })();
    await sleep(1000);

    for (const client of clients) {
      client.hostBefore = hostOfSid(client.socket.io.engine.id);
      client.socket.once("disconnect", () => (client.droppedAt = nowMs()));
      client.socket.once("connect", () => {
        client.backAt = nowMs();
        client.recovered = client.socket.recovered;
        client.hostAfter = hostOfSid(client.socket.io.engine.id);
      });
    }
    const shutdown = await post(service.url, "/v1/shutdown", { reconnect_delay_ms: 1000 });
    await shutdown.arrayBuffer();
    log(`  POST /v1/shutdown: ${shutdown.status}; dropping every session at once`);
    const droppedAt = nowMs();
    const sids = clients.map((client) => client.socket.io.engine.id);
    await Promise.all(
      sids.map(async (sid) => (await post(service.url, `/_edgeio/test/drop?sid=${encodeURIComponent(sid)}`)).arrayBuffer()),
    );
    const dropPhaseS = (nowMs() - droppedAt) / 1000;
    await until(() => clients.every((client) => client.backAt !== undefined), 60_000);
    const back = clients.filter((client) => client.backAt !== undefined);
    const timeToAllBackS = (Math.max(...back.map((client) => client.backAt!)) - droppedAt) / 1000;
    log(`  ${back.length} back in ${timeToAllBackS.toFixed(2)} s`);

    await sleep(1000);
    publishing = false;
    await publisher;
    // Everything answered 2xx has been applied; a last round trip per socket flushes what is in flight.
    await sleep(500);
    await Promise.all(
      clients.map((client) =>
        client.socket
          .timeout(10_000)
          .emitWithAck("rooms")
          .catch(() => null),
      ),
    );

    let lost = 0;
    let lostCrossHost = 0;
    let duplicates = 0;
    let outOfOrderSockets = 0;
    const crossHost = (client: Client) => client.hostAfter !== undefined && client.hostAfter !== client.hostBefore;
    for (const client of clients) {
      const seen = new Set(client.ticks);
      duplicates += client.ticks.length - seen.size;
      const missing = published.filter((n) => !seen.has(n)).length;
      lost += missing;
      if (crossHost(client)) lostCrossHost += missing;
      if (client.ticks.some((n, i) => i > 0 && n < client.ticks[i - 1])) outOfOrderSockets++;
    }
    return {
      sockets: clients.length,
      hostPool,
      recoveryWindowMs,
      reconnect: RECONNECT,
      dropPhaseS,
      timeToAllBackS,
      backMs: summarize(back.map((client) => client.backAt! - droppedAt)),
      disconnectedBeforeDrop: clients.filter((client) => client.droppedAt !== undefined && client.droppedAt < droppedAt).length,
      awayMs: summarize(back.map((client) => client.backAt! - (client.droppedAt ?? droppedAt))),
      crossHost: clients.filter(crossHost).length,
      recovered: clients.filter((client) => client.recovered === true).length,
      fresh: clients.filter((client) => client.recovered === false).length,
      notBack: clients.length - back.length,
      published: published.length,
      publishFailed,
      expectedDeliveries: published.length * clients.length,
      lost,
      lostCrossHost,
      duplicates,
      outOfOrderSockets,
    };
  } finally {
    for (const client of clients) client.socket.close();
    await service.stop();
  }
}
