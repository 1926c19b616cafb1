/**
 * Orderly redeploys against the real service (wrangler dev, echo app, 3 hosts): POST /v1/shutdown
 * tells every socket on every host `server:shutdown` once — a child namespace's sockets too,
 * on hosts with no socket in "/" — and answers matching counts; read-only keys and bad bodies
 * are refused; the client-shim reconnects after the delay, spread by its jitter; the deploy
 * script's --no-deploy mode calls the route.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import type { Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Emitter } from "../../emitter/src/index";
import { connect as connectShim, type EdgeSocket } from "../../client-shim/src/index";
import { connectOnOtherHost, hostOf, sleep } from "../helpers/clients";
import { startService, type RunningService } from "../helpers/service";

const KEY = "api-key-shutdown-aaaaaaaa";
const READ_KEY = "read-key-shutdown-bbbbbbb";
const ROOT = resolve(import.meta.dirname, "../..");

let service: RunningService;
let clients: Socket[] = [];

beforeAll(async () => {
  service = await startService({ vars: { HOST_POOL_SIZE: 3, API_KEYS: KEY, API_READ_KEYS: READ_KEY } });
}, 90_000);
afterAll(async () => {
  await service?.stop();
});
afterEach(() => {
  for (const client of clients) client.close();
  clients = [];
});

async function shutdown(body: unknown, key: string | null = KEY, raw?: string) {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (key) headers.Authorization = `Bearer ${key}`;
  const response = await fetch(`${service.url}/v1/shutdown`, { method: "POST", headers, body: raw ?? JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

/** `count` sockets of `nsp` on distinct hosts, each recording the server:shutdown payloads it receives. */
async function onDistinctHosts(nsp: string, transports: Array<string[] | undefined>) {
  const sockets: Array<{ socket: Socket; told: Array<{ reconnect_delay_ms: number }> }> = [];
  for (const transport of transports) {
    const socket = await connectOnOtherHost(
      service.url + nsp,
      sockets.map((s) => hostOf(s.socket)),
      transport ? { transports: transport } : {},
    );
    clients.push(socket);
    const told: Array<{ reconnect_delay_ms: number }> = [];
    socket.on("server:shutdown", (info) => told.push(info));
    sockets.push({ socket, told });
  }
  return sockets;
}

/** Waits until every socket was told `times` times, then a little longer, so a duplicate would show. */
async function settle(sockets: Array<{ told: unknown[] }>, times: number) {
  for (let i = 0; i < 100 && sockets.some((s) => s.told.length < times); i++) await sleep(50);
  await sleep(300);
}

describe("POST /v1/shutdown", () => {
  it("tells every socket on every host once, in every namespace, and answers the counts", async () => {
    // A child namespace only, on three hosts: no socket is in "/", so only the host registry finds them.
    const dyn = await onDistinctHosts("/dyn-7", [["websocket"], ["polling"], undefined]);
    expect(new Set(dyn.map((s) => hostOf(s.socket))).size).toBe(3);
    const first = await shutdown({ reconnect_delay_ms: 1234 });
    expect(first).toEqual({
      status: 200,
      json: { ok: true, hosts: 3, sockets: 3, failed: 0, failures: [], reconnect_delay_ms: 1234, jitter_ms: 0 },
    });
    await settle(dyn, 1);
    for (const { told } of dyn) expect(told).toEqual([{ reconnect_delay_ms: 1234 }]);
    // The plain socket.io-client sees an event like any other: it stays connected.
    expect(dyn.every((s) => s.socket.connected)).toBe(true);

    // Now "/" too, on three hosts; the per-socket delays spread over base..base+jitter.
    const root = await onDistinctHosts("/", [["polling"], ["websocket"], undefined]);
    const second = await shutdown({ reconnect_delay_ms: 1000, jitter_ms: 500 });
    expect(second.json).toMatchObject({ ok: true, hosts: 3, sockets: 6, failed: 0, reconnect_delay_ms: 1000, jitter_ms: 500 });
    await settle(root, 1);
    for (const { told } of root) expect(told).toHaveLength(1);
    for (const { told } of dyn) expect(told).toHaveLength(2);
    const delays = [...root, ...dyn].map((s) => s.told.at(-1)!.reconnect_delay_ms);
    for (const delay of delays) expect(delay >= 1000 && delay <= 1500, `delay ${delay}`).toBe(true);
    expect(new Set(delays).size).toBeGreaterThan(1);

    // Only the namespaces asked for, through the emitter.
    const third = await new Emitter({ url: service.url, apiKey: KEY }).shutdown({ reconnectDelayMs: 0, namespaces: ["/"] });
    expect(third).toMatchObject({ ok: true, hosts: 3, sockets: 3, failed: 0 });
    await settle(root, 2);
    for (const { told } of root) expect(told).toHaveLength(2);
    for (const { told } of dyn) expect(told).toHaveLength(2);
  });

  it("needs a full-access key: 401 without one, 403 for a read-only key", async () => {
    expect((await shutdown({}, null)).status).toBe(401);
    const refused = await shutdown({}, READ_KEY);
    expect(refused).toEqual({ status: 403, json: { error: { code: "forbidden", message: expect.any(String) } } });
  });

  it.each([
    ["a negative delay", { reconnect_delay_ms: -1 }],
    ["a delay above 10 minutes", { reconnect_delay_ms: 600_001 }],
    ["a delay given as a string", { reconnect_delay_ms: "5000" }],
    ["a fractional jitter", { jitter_ms: 1.5 }],
    ["a namespace without /", { namespaces: ["chat"] }],
    ["an empty namespace list", { namespaces: [] }],
    ["an unknown field", { delay: 5 }],
  ])("refuses %s with 400 invalid_request", async (_name, body) => {
    const { status, json } = await shutdown(body);
    expect(status).toBe(400);
    expect(json.error.code).toBe("invalid_request");
    expect(json.error.issues.length).toBeGreaterThan(0);
  });

  it("refuses a body that is not JSON with 400", async () => {
    expect(await shutdown(undefined, KEY, "{nope")).toMatchObject({ status: 400, json: { error: { code: "invalid_json" } } });
  });
});

describe("the client-shim on server:shutdown", () => {
  it("reconnects each client after the delay, spread over the jitter window", async () => {
    const BASE = 1000;
    const shims: Array<{ socket: EdgeSocket; told?: number; chosen?: number; back?: number; reason?: string }> = [];
    for (let i = 0; i < 20; i++) {
      const entry: (typeof shims)[number] = {
        socket: connectShim(service.url, {
          transports: ["websocket"],
          shutdownJitter: 1,
          onServerShutdown: (ms) => {
            entry.chosen = ms;
          },
        }),
      };
      entry.socket.on("server:shutdown" as never, () => {
        entry.told = Date.now();
      });
      shims.push(entry);
    }
    try {
      await Promise.all(
        shims.map(({ socket }) => new Promise<void>((ok) => (socket.connected ? ok() : socket.once("connect", () => ok())))),
      );
      const firstIds = shims.map((s) => s.socket.id);
      for (const entry of shims) {
        entry.socket.on("connect", () => (entry.back ??= Date.now()));
        entry.socket.on("disconnect", (reason) => (entry.reason ??= reason));
      }

      const { json } = await shutdown({ reconnect_delay_ms: BASE });
      expect(json.sockets).toBe(20);
      for (let i = 0; i < 100 && shims.some((s) => s.back === undefined); i++) await sleep(50);

      const waits = shims.map((s) => s.back! - s.told!);
      expect(waits.every(Number.isFinite)).toBe(true); // every client told, every client back
      // Each waits base × (1 + random × shutdownJitter), here 1–2 s, and comes back no earlier.
      const chosen = shims.map((s) => s.chosen!);
      for (const [i, wait] of waits.entries()) {
        expect(chosen[i] >= BASE && chosen[i] <= 2 * BASE, `chosen ${chosen[i]}`).toBe(true);
        expect(wait).toBeGreaterThanOrEqual(chosen[i]);
      }
      // The spread covers a good part of the 1 s jitter window (20 uniform draws).
      expect(Math.max(...chosen) - Math.min(...chosen)).toBeGreaterThanOrEqual(0.5 * BASE);
      expect(Math.max(...waits) - Math.min(...waits)).toBeGreaterThanOrEqual(0.5 * BASE);
      // The transport was closed (recoverable), not the namespace left ("io client disconnect"),
      // and the Manager's own reconnection is back on.
      expect(new Set(shims.map((s) => s.reason))).toEqual(new Set(["forced close"]));
      expect(shims.every((s) => s.socket.io.reconnection())).toBe(true);
      // Back on the real server as new sockets.
      expect(shims.every((s, i) => s.socket.connected && s.socket.id !== firstIds[i])).toBe(true);
    } finally {
      for (const { socket } of shims) socket.disconnect();
    }
  });
});

describe("npm run deploy", () => {
  function deploy(args: string[], env: Record<string, string | undefined>) {
    const child = spawn(process.execPath, [resolve(ROOT, "scripts/deploy.mjs"), ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    return new Promise<{ code: number | null; output: string }>((ok) => child.on("close", (code) => ok({ code, output })));
  }

  it("--no-deploy calls /v1/shutdown on the running service and reports the counts", async () => {
    const [{ socket }] = await onDistinctHosts("/", [["websocket"]]);
    const told = new Promise((ok) => socket.once("server:shutdown", ok));
    const run = await deploy(["--no-deploy", "--delay", "2500"], { EDGEIO_URL: service.url, EDGEIO_API_KEY: KEY });
    expect(run.code).toBe(0);
    expect(run.output).toMatch(/server:shutdown sent to \d+ socket\(s\) on [1-3] host\(s\); reconnect_delay_ms 2500/);
    expect(run.output).toMatch(/not running wrangler deploy/);
    expect(await told).toEqual({ reconnect_delay_ms: 2500 });
  });

  it("stops with a clear error, without deploying, when the URL or key is missing or refused", async () => {
    const missing = await deploy(["--no-deploy"], {});
    expect(missing.code).toBe(2);
    expect(missing.output).toMatch(/set EDGEIO_URL .* and EDGEIO_API_KEY/);
    const refused = await deploy([], { EDGEIO_URL: service.url, EDGEIO_API_KEY: READ_KEY });
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/answered 403: .*forbidden.*not deploying/);
    const badDelay = await deploy(["--no-deploy", "--delay", "soon"], { EDGEIO_URL: service.url, EDGEIO_API_KEY: KEY });
    expect(badDelay.code).toBe(2);
    expect(badDelay.output).toMatch(/--delay must be a whole number of milliseconds/);
  });
});
