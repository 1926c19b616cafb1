/**
 * The /v1 HTTP API against the real service (wrangler dev, echo app): authentication with
 * rotating keys, every error class with its status and JSON body, and each route's answer.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, connectOnOtherHost, hostOf, nextEvent, nextEventArgs } from "../helpers/clients";
import { startService, type RunningService } from "../helpers/service";

const KEY_A = "api-key-aaaaaaaaaaaaaaaa";
const KEY_B = "api-key-bbbbbbbbbbbbbbbb"; // a second key: rotation
const READ_KEY = "read-key-cccccccccccccccc";
const MAX_BODY = 4_000;

let service: RunningService;
const sockets: Socket[] = [];

beforeAll(async () => {
  service = await startService({ vars: { API_KEYS: `${KEY_A},${KEY_B}`, API_READ_KEYS: READ_KEY, API_MAX_BODY: MAX_BODY } });
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await service?.stop();
});

async function call(
  path: string,
  init: { method?: string; key?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { "Content-Type": "application/json", ...init.headers };
  const key = init.key === undefined ? KEY_A : init.key;
  if (key !== null) headers.Authorization = `Bearer ${key}`;
  const response = await fetch(`${service.url}${path}`, {
    method: init.method ?? (init.body !== undefined || init.raw !== undefined ? "POST" : "GET"),
    headers,
    body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: JSON.parse(text) as any };
}

async function joined(socket: Socket, room: string): Promise<Socket> {
  await socket.timeout(5000).emitWithAck("join", room);
  return socket;
}

describe("authentication", () => {
  it("serves /v1/health without a key", async () => {
    const { status, json } = await call("/v1/health", { key: null });
    expect(status).toBe(200);
    expect(json).toMatchObject({ ok: true, status: "ok", checks: { api: "ok", webhooks: "ok" } });
  });

  it("refuses requests without a key (401, WWW-Authenticate)", async () => {
    const { status, headers, json } = await call("/v1/emit", { key: null, body: { event: "x" } });
    expect(status).toBe(401);
    expect(headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(json).toEqual({ error: { code: "unauthorized", message: expect.any(String) } });
  });

  it("refuses a wrong key, a non-bearer scheme and a key that is a prefix of a valid one", async () => {
    for (const headers of [
      { Authorization: "Bearer api-key-aaaaaaaaaaaaaaaX" },
      { Authorization: `Basic ${KEY_A}` },
      { Authorization: `Bearer ${KEY_A.slice(0, -1)}` },
      { Authorization: `Bearer ${KEY_A}x` },
    ]) {
      const { status, json } = await call("/v1/rooms/a/presence", { key: null, headers });
      expect(status).toBe(401);
      expect(json.error.code).toBe("unauthorized");
    }
  });

  it("accepts every configured key (rotation)", async () => {
    for (const key of [KEY_A, KEY_B]) {
      const { status, json } = await call("/v1/emit", { key, body: { event: "noop", rooms: ["nobody-here"] } });
      expect(status).toBe(200);
      expect(json).toEqual({ ok: true, rooms: 1, hosts: 0, sockets: 0 });
    }
  });

  it("lets a read-only key read but not publish (403)", async () => {
    const read = await call("/v1/rooms/lobby/presence", { key: READ_KEY });
    expect(read.status).toBe(200);
    for (const path of ["/v1/emit", "/v1/sockets/join", "/v1/sockets/leave", "/v1/sockets/disconnect"]) {
      const { status, json } = await call(path, { key: READ_KEY, body: { event: "x", room: "r" } });
      expect(status).toBe(403);
      expect(json).toEqual({ error: { code: "forbidden", message: expect.any(String) } });
    }
  });
});

describe("errors", () => {
  it("answers 400 invalid_json for a body that is not JSON", async () => {
    const { status, json } = await call("/v1/emit", { raw: "{not json" });
    expect(status).toBe(400);
    expect(json.error.code).toBe("invalid_json");
  });

  it("answers 400 invalid_request with the zod issues", async () => {
    const { status, json } = await call("/v1/emit", {
      body: { event: "disconnect", rooms: "not-an-array", args: [{ _binary: "%%%" }], surprise: true },
    });
    expect(status).toBe(400);
    expect(json.error.code).toBe("invalid_request");
    const paths = json.error.issues.map((issue: { path: unknown[] }) => issue.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["event", "rooms", "args.0._binary", ""]));
    for (const issue of json.error.issues)
      expect(issue).toEqual({ path: expect.any(Array), code: expect.any(String), message: expect.any(String) });
  });

  it("answers 400 for a missing event and for a bad namespace", async () => {
    const missing = await call("/v1/emit", { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.json.error.issues[0].path).toEqual(["event"]);
    const nsp = await call("/v1/rooms/lobby/presence?namespace=admin");
    expect(nsp.status).toBe(400);
    expect(nsp.json.error.issues[0].path).toEqual(["namespace"]);
  });

  it("answers 404 not_found for an unknown route", async () => {
    const { status, json } = await call("/v1/nothing/here");
    expect(status).toBe(404);
    expect(json).toEqual({ error: { code: "not_found", message: "no route GET /v1/nothing/here" } });
  });

  it("answers 413 payload_too_large beyond API_MAX_BODY", async () => {
    const { status, json } = await call("/v1/emit", { body: { event: "big", args: ["x".repeat(MAX_BODY)] } });
    expect(status).toBe(413);
    expect(json).toEqual({ error: { code: "payload_too_large", message: `the request body exceeds ${MAX_BODY} bytes` } });
  });
});

describe("routes", () => {
  it("POST /v1/emit delivers to a room across hosts, with binary arguments", async () => {
    const a = await joined(await connect(service.url, { transports: ["websocket"] }), "api:room");
    const b = await joined(await connectOnOtherHost(service.url, [hostOf(a)], { transports: ["polling"] }), "api:room");
    sockets.push(a, b);
    const received = [nextEventArgs(a, "api:event"), nextEventArgs(b, "api:event")];
    const { status, json } = await call("/v1/emit", {
      body: {
        rooms: ["api:room"],
        event: "api:event",
        args: [{ text: "hi" }, { _binary: Buffer.from([0, 1, 2, 255]).toString("base64") }],
      },
    });
    expect(status).toBe(200);
    expect(json).toEqual({ ok: true, rooms: 1, hosts: 2, sockets: 2 });
    for (const [text, bytes] of await Promise.all(received)) {
      expect(text).toEqual({ text: "hi" });
      expect(Buffer.from(bytes as Uint8Array)).toEqual(Buffer.from([0, 1, 2, 255]));
    }
  });

  it("POST /v1/sockets/join, /leave and /disconnect answer the hosts and sockets reached", async () => {
    const a = await joined(await connect(service.url, { transports: ["websocket"] }), "api:lobby");
    sockets.push(a);
    const join = await call("/v1/sockets/join", { body: { rooms: [a.id], room: "api:vip" } });
    expect(join.json).toEqual({ ok: true, rooms: 1, hosts: 1, sockets: 1 });
    expect(await a.timeout(5000).emitWithAck("rooms")).toContain("api:vip");
    const leave = await call("/v1/sockets/leave", { body: { rooms: ["api:lobby"], room: ["api:vip", "api:lobby"] } });
    expect(leave.json).toEqual({ ok: true, rooms: 1, hosts: 1, sockets: 1 });
    expect(await a.timeout(5000).emitWithAck("rooms")).toEqual([a.id]);
    const gone = nextEvent(a, "disconnect");
    const disconnect = await call("/v1/sockets/disconnect", { body: { rooms: [a.id] } });
    expect(disconnect.json).toEqual({ ok: true, rooms: 1, hosts: 1, sockets: 1 });
    expect(await gone).toBe("io server disconnect");
  });

  it("GET /v1/rooms/:room/presence and GET /v1/users/:id answer their documented shapes", async () => {
    const presence = await call("/v1/rooms/conversation%3A42/presence?namespace=/");
    expect(presence.status).toBe(200);
    expect(presence.json).toEqual({ namespace: "/", room: "conversation:42", presence: [], counts: { connections: 0, users: 0 } });
    const user = await call("/v1/users/7");
    expect(user.status).toBe(200);
    expect(user.json).toMatchObject({ id: "7", online: false, devices: [], connections: 0 });
  });
});

describe("rate limit", () => {
  let limited: RunningService;
  let dir: string;

  beforeAll(async () => {
    // The echo app's config plus a small Cloudflare rate-limit binding (3 requests a minute per key).
    dir = mkdtempSync(join(tmpdir(), "edgeio-ratelimit-"));
    const config = join(dir, "wrangler.toml");
    writeFileSync(
      config,
      `name = "edgeio-echo-ratelimit"
main = "${resolve(import.meta.dirname, "../../examples/echo/index.ts")}"
compatibility_date = "2026-11-01"
[[durable_objects.bindings]]
name = "CONNECTION_HOST"
class_name = "ConnectionHost"
[[durable_objects.bindings]]
name = "ROOM"
class_name = "RoomDO"
[[durable_objects.bindings]]
name = "USER"
class_name = "UserDO"
[[durable_objects.bindings]]
name = "WEBHOOKS"
class_name = "WebhookDO"
[[migrations]]
tag = "v1"
new_sqlite_classes = ["ConnectionHost", "RoomDO", "UserDO", "WebhookDO"]
[[ratelimits]]
name = "API_RATE_LIMITER"
namespace_id = "1001"
simple = { limit = 3, period = 60 }
`,
    );
    limited = await startService({ config, vars: { API_KEYS: `${KEY_A},${KEY_B}` } });
  });
  afterAll(async () => {
    await limited?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers 429 rate_limited with Retry-After once a key is over its limit, per key", async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await fetch(`${limited.url}/v1/rooms/r/presence`, { headers: { Authorization: `Bearer ${KEY_A}` } });
      statuses.push(last.status);
      if (last.status === 429) break;
      await last.text();
    }
    expect(statuses).toContain(429);
    expect(last!.headers.get("retry-after")).toBe("60");
    expect(await last!.json()).toEqual({ error: { code: "rate_limited", message: expect.any(String) } });
    // The other key has its own budget.
    const other = await fetch(`${limited.url}/v1/rooms/r/presence`, { headers: { Authorization: `Bearer ${KEY_B}` } });
    expect(other.status).toBe(200);
  });
});

describe("configuration", () => {
  let misconfigured: RunningService;
  beforeAll(async () => {
    misconfigured = await startService({ vars: { API_KEYS: "too-short", WEBHOOK_URLS: "http://127.0.0.1:9/hook" } });
  });
  afterAll(() => misconfigured?.stop());

  it("reports invalid API and webhook settings by name instead of running with them", async () => {
    const health = await fetch(`${misconfigured.url}/v1/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ ok: false, checks: { api: "invalid_configuration", webhooks: "invalid_configuration" } });
    const call = await fetch(`${misconfigured.url}/v1/emit`, {
      method: "POST",
      headers: { Authorization: "Bearer too-short" },
      body: "{}",
    });
    expect(call.status).toBe(500);
    const body = (await call.json()) as { error: { code: string; issues: string[] } };
    expect(body.error.code).toBe("invalid_configuration");
    expect(body.error.issues.join("\n")).toMatch(/API_KEYS/);
  });
});
