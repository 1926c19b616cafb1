/**
 * The @edgeio/emitter package. Unit part: retry and backoff against a local Node HTTP server
 * (network errors and 5xx retried, 4xx never), typed errors, the request it sends. End-to-end
 * part: a Node "seed backend" publishes through the real service to real socket.io-client
 * receivers spread over several ConnectionHosts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  ApiError,
  AuthenticationError,
  Emitter,
  EmitterError,
  NetworkError,
  PayloadTooLargeError,
  PermissionError,
  RateLimitError,
  ReservedEventError,
  ServerError,
  ValidationError,
  verifyWebhookSignature,
} from "../../emitter/src/index";
import { connect, connectOnOtherHost, hostOf, nextEvent, nextEventArgs } from "../helpers/clients";
import { startService, type RunningService } from "../helpers/service";

// ─────────────────────────── unit: a scripted local server ───────────────────────────
interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: unknown;
}

let stub: Server;
let stubUrl: string;
let script: Array<(res: ServerResponse, req: IncomingMessage) => void> = [];
let recorded: Recorded[] = [];

beforeAll(async () => {
  stub = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => {
      recorded.push({ method: req.method!, url: req.url!, headers: req.headers, body: raw ? JSON.parse(raw) : null });
      const step = script.shift() ?? ((r: ServerResponse) => json(r, 200, { ok: true, rooms: 0, hosts: 0, sockets: 0 }));
      step(res, req);
    });
  });
  await new Promise<void>((resolve) => stub.listen(0, "127.0.0.1", resolve));
  stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => stub.close(() => resolve())));
afterEach(() => {
  script = [];
  recorded = [];
});

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
const apiError =
  (status: number, code: string, extra: object = {}) =>
  (res: ServerResponse) =>
    json(res, status, { error: { code, message: `failure ${code}`, ...extra } });
const dropConnection = (_res: ServerResponse, req: IncomingMessage) => req.socket.destroy();

const unitEmitter = (options: Partial<ConstructorParameters<typeof Emitter>[0]> = {}) =>
  new Emitter({ url: stubUrl, apiKey: "unit-key", retries: 3, retryDelayMs: 5, maxRetryDelayMs: 20, ...options });

describe("emitter (unit)", () => {
  it("sends the selection, event and args (binary as the _binary marker) with the bearer key", async () => {
    const emitter = unitEmitter();
    await emitter
      .of("/chat")
      .to("a")
      .in(["b", "c"])
      .except("d")
      .user(7)
      .user(["8"])
      .volatile.emit("ev", { x: 1 }, Buffer.from([1, 2, 3]), new Uint8Array([255]).buffer);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      method: "POST",
      url: "/v1/emit",
      headers: { authorization: "Bearer unit-key", "content-type": "application/json" },
    });
    expect(recorded[0].body).toEqual({
      namespace: "/chat",
      rooms: ["a", "b", "c"],
      users: ["7", "8"],
      except: ["d"],
      event: "ev",
      args: [{ x: 1 }, { _binary: "AQID" }, { _binary: "/w==" }],
      volatile: true,
    });
  });

  it("keeps operators immutable, like Socket.IO's", async () => {
    const emitter = unitEmitter();
    const base = emitter.to("a");
    await base.to("b").emit("one");
    await base.emit("two");
    expect(recorded.map((r) => (r.body as { rooms: string[] }).rooms)).toEqual([["a", "b"], ["a"]]);
  });

  it("maps socketsJoin, socketsLeave and disconnectSockets to their routes", async () => {
    const emitter = unitEmitter();
    await emitter.in("lobby").socketsJoin(["vip", "news"]);
    await emitter.in("lobby").except("x").socketsLeave("vip");
    await emitter.user("7").disconnectSockets(true);
    expect(recorded.map((r) => [r.url, r.body])).toEqual([
      ["/v1/sockets/join", { namespace: "/", rooms: ["lobby"], users: [], except: [], room: ["vip", "news"] }],
      ["/v1/sockets/leave", { namespace: "/", rooms: ["lobby"], users: [], except: ["x"], room: ["vip"] }],
      ["/v1/sockets/disconnect", { namespace: "/", rooms: [], users: ["7"], except: [], close: true }],
    ]);
  });

  it("rejects reserved event names and acks synchronously, sending nothing", () => {
    const emitter = unitEmitter();
    for (const name of ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]) {
      expect(() => emitter.to("a").emit(name)).toThrow(ReservedEventError);
    }
    expect(() => emitter.emit("x", () => undefined)).toThrow(EmitterError);
    expect(recorded).toHaveLength(0);
  });

  it("retries 5xx with backoff and succeeds when the service recovers", async () => {
    script = [apiError(503, "unavailable"), apiError(500, "internal_error")];
    const result = await unitEmitter().to("a").emit("ev");
    expect(result).toEqual({ ok: true, rooms: 0, hosts: 0, sockets: 0 });
    expect(recorded).toHaveLength(3);
  });

  it("retries network errors and succeeds when the service answers", async () => {
    script = [dropConnection, dropConnection];
    await unitEmitter().emit("ev");
    expect(recorded).toHaveLength(3);
  });

  it("gives up after `retries` with a ServerError (5xx) or a NetworkError", async () => {
    script = Array.from({ length: 10 }, () => apiError(502, "bad_gateway"));
    const server = await unitEmitter({ retries: 2 })
      .emit("ev")
      .catch((e: unknown) => e);
    expect(server).toBeInstanceOf(ServerError);
    expect(server).toMatchObject({ status: 502, code: "bad_gateway", attempts: 3 });
    expect(recorded).toHaveLength(3);

    recorded = [];
    script = Array.from({ length: 10 }, () => dropConnection);
    const network = await unitEmitter({ retries: 2 })
      .emit("ev")
      .catch((e: unknown) => e);
    expect(network).toBeInstanceOf(NetworkError);
    expect((network as NetworkError).attempts).toBe(3);
    expect(recorded).toHaveLength(3);
  });

  it("never retries 4xx, and types each error", async () => {
    const cases: Array<[number, string, new (...args: never[]) => ApiError]> = [
      [400, "invalid_request", ValidationError],
      [401, "unauthorized", AuthenticationError],
      [403, "forbidden", PermissionError],
      [413, "payload_too_large", PayloadTooLargeError],
      [429, "rate_limited", RateLimitError],
    ];
    for (const [status, code, Class] of cases) {
      recorded = [];
      script = [
        apiError(status, code, status === 400 ? { issues: [{ path: ["event"], code: "custom", message: "bad" }] } : {}),
        apiError(500, "never_reached"),
      ];
      const error = await unitEmitter()
        .emit("ev")
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Class);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ status, code, attempts: 1 });
      expect(recorded).toHaveLength(1);
      if (status === 400) expect((error as ValidationError).issues).toEqual([{ path: ["event"], code: "custom", message: "bad" }]);
    }
  });

  it("reads Retry-After on 429", async () => {
    script = [(res) => json(res, 429, { error: { code: "rate_limited", message: "slow down" } }, { "Retry-After": "60" })];
    const error = (await unitEmitter()
      .emit("ev")
      .catch((e: unknown) => e)) as RateLimitError;
    expect(error.retryAfter).toBe(60);
  });

  it("validates its options", () => {
    expect(() => new Emitter({ url: "ftp://x", apiKey: "k" })).toThrow(EmitterError);
    expect(() => new Emitter({ url: "https://x", apiKey: "" })).toThrow(EmitterError);
  });
});

describe("verifyWebhookSignature", () => {
  const secret = "whsec-unit-test-secret";
  const body = JSON.stringify({ id: "evt_1", type: "client.event", data: { a: 1 } });
  const sign = async (key: string, t: number, payload: string) => {
    const { createHmac } = await import("node:crypto");
    return `t=${t},v1=${createHmac("sha256", key).update(`${t}.${payload}`).digest("hex")}`;
  };
  const now = Math.floor(Date.now() / 1000);

  it("accepts a valid signature, also as bytes and with one of several secrets", async () => {
    const header = await sign(secret, now, body);
    expect(await verifyWebhookSignature(secret, header, body)).toBe(true);
    expect(await verifyWebhookSignature(secret, header, new TextEncoder().encode(body))).toBe(true);
    expect(await verifyWebhookSignature(["old-secret-xxxxxxxx", secret], header, body)).toBe(true);
  });

  it("refuses a tampered body, a wrong secret, an old timestamp and malformed headers", async () => {
    const header = await sign(secret, now, body);
    expect(await verifyWebhookSignature(secret, header, body.replace('"a":1', '"a":2'))).toBe(false);
    expect(await verifyWebhookSignature("another-secret-xxxx", header, body)).toBe(false);
    expect(await verifyWebhookSignature(secret, await sign(secret, now - 3600, body), body)).toBe(false);
    expect(await verifyWebhookSignature(secret, await sign(secret, now - 3600, body), body, { toleranceSeconds: 0 })).toBe(true);
    expect(await verifyWebhookSignature(secret, header.replace(/t=\d+/, `t=${now + 1}`), body)).toBe(false);
    for (const bad of [null, undefined, "", "t=1", "v1=abc", "t=x,v1=zz", `t=${now},v1=nothex`]) {
      expect(await verifyWebhookSignature(secret, bad, body)).toBe(false);
    }
  });
});

// ─────────────────────────── end to end: a seed backend ───────────────────────────
describe("emitter against the service (seed backend)", () => {
  const API_KEY = "seed-backend-key-0123456789";
  let service: RunningService;
  let emitter: Emitter;
  const open: Socket[] = [];

  beforeAll(async () => {
    service = await startService({ vars: { API_KEYS: API_KEY } });
    emitter = new Emitter({ url: service.url, apiKey: API_KEY });
  });
  afterAll(async () => {
    for (const socket of open) socket.close();
    await service?.stop();
  });

  /** Receivers alternate between the two transports: delivery must not depend on either. */
  const MODES = [{ transports: ["websocket"] }, { transports: ["polling"] }];

  /** Connects `count` sockets, each on a host none of the others uses. */
  async function onDistinctHosts(count: number): Promise<Socket[]> {
    const list: Socket[] = [];
    for (let i = 0; i < count; i++) {
      const socket = await connectOnOtherHost(service.url, list.map(hostOf), MODES[i % MODES.length]);
      list.push(socket);
      open.push(socket);
    }
    return list;
  }
  const join = (socket: Socket, room: string) => socket.timeout(5000).emitWithAck("join", room);

  /** Counts `event` on each socket until a later `marker` emit has reached them all. */
  function counter(list: Socket[], event: string) {
    const counts = list.map(() => 0);
    const payloads: unknown[][] = list.map(() => []);
    list.forEach(
      (socket, i) =>
        void socket.on(event, (...args: unknown[]) => {
          counts[i]++;
          payloads[i].push(args);
        }),
    );
    return {
      counts,
      payloads,
      /** Emits a marker after the fact; per-host ordering means every earlier event has arrived. */
      async settle(marker: string) {
        const seen = list.map((socket) => nextEvent(socket, marker));
        await emitter.to(list.map((socket) => socket.id!)).emit(marker);
        await Promise.all(seen);
        for (const socket of list) socket.off(event);
      },
    };
  }

  it("message:new to conversation:42 reaches receivers on three hosts exactly once", async () => {
    const receivers = await onDistinctHosts(3);
    expect(new Set(receivers.map(hostOf)).size).toBe(3);
    const outsider = await connect(service.url, MODES[0]);
    open.push(outsider);
    for (const socket of receivers) await join(socket, "conversation:42");
    // One receiver is in a second target room too: it must still get the message once.
    await join(receivers[0], "conversation:43");

    const watch = counter([...receivers, outsider], "message:new");
    const message = { id: 1, conversationId: 42, text: "hello from the backend" };
    const result = await emitter.to(["conversation:42", "conversation:43"]).emit("message:new", message);
    expect(result).toEqual({ ok: true, rooms: 2, hosts: 3, sockets: 3 });
    await watch.settle("marker:1");
    expect(watch.counts).toEqual([1, 1, 1, 0]);
    for (const payload of watch.payloads.slice(0, 3)) expect(payload).toEqual([[message]]);
  });

  it("notification to user 7 reaches each of the user's connections once (rooms user:7)", async () => {
    const tabs = await onDistinctHosts(2);
    const stranger = await connect(service.url, MODES[0]);
    open.push(stranger);
    // A user room is private to its user (socket.data.user.id), so each socket signs in first.
    for (const tab of tabs) await tab.timeout(5000).emitWithAck("set-data", "user", { id: "7" });
    await stranger.timeout(5000).emitWithAck("set-data", "user", { id: "8" });
    for (const tab of tabs) await join(tab, "user:7");
    await join(stranger, "user:8");

    const watch = counter([...tabs, stranger], "notification");
    const result = await emitter.user(7).emit("notification", { kind: "mention", from: "ann" });
    expect(result).toMatchObject({ ok: true, rooms: 1, hosts: 2, sockets: 2 });
    await watch.settle("marker:2");
    expect(watch.counts).toEqual([1, 1, 0]);
    expect(watch.payloads[0]).toEqual([[{ kind: "mention", from: "ann" }]]);
  });

  it("honours except, by socket id and by room", async () => {
    const [a, b, c] = await onDistinctHosts(3);
    for (const socket of [a, b, c]) await join(socket, "except:room");
    await join(c, "muted");

    const watch = counter([a, b, c], "news");
    const result = await emitter.to("except:room").except(b.id!).except("muted").emit("news", "only a");
    expect(result.sockets).toBe(1);
    await watch.settle("marker:3");
    expect(watch.counts).toEqual([1, 0, 0]);
  });

  it("socketsJoin moves sockets on several hosts into a room that then receives a broadcast", async () => {
    const lobby = await onDistinctHosts(3);
    const elsewhere = await connect(service.url, MODES[0]);
    open.push(elsewhere);
    for (const socket of lobby) await join(socket, "lobby");

    const joinResult = await emitter.in("lobby").socketsJoin("vip");
    expect(joinResult).toMatchObject({ ok: true, hosts: 3, sockets: 3 });
    for (const socket of lobby) expect(await socket.timeout(5000).emitWithAck("rooms")).toContain("vip");

    const watch = counter([...lobby, elsewhere], "vip:welcome");
    expect(await emitter.to("vip").emit("vip:welcome", { perks: true })).toMatchObject({ hosts: 3, sockets: 3 });
    await watch.settle("marker:4");
    expect(watch.counts).toEqual([1, 1, 1, 0]);

    // And back out: the room is empty again.
    expect(await emitter.in("vip").socketsLeave("vip")).toMatchObject({ sockets: 3 });
    expect(await emitter.to("vip").emit("vip:welcome")).toMatchObject({ sockets: 0 });
  });

  it("disconnectSockets disconnects the matching sockets on every host", async () => {
    const targets = await onDistinctHosts(2);
    const bystander = await connect(service.url, MODES[0]);
    open.push(bystander);
    for (const socket of targets) await join(socket, "kick-me");
    const reasons = targets.map((socket) => nextEvent(socket, "disconnect"));
    expect(await emitter.in("kick-me").disconnectSockets()).toMatchObject({ hosts: 2, sockets: 2 });
    expect(await Promise.all(reasons)).toEqual(["io server disconnect", "io server disconnect"]);
    expect(bystander.connected).toBe(true);
  });

  it("sends binary arguments as binary, and targets other namespaces with of()", async () => {
    const root = await connect(service.url, MODES[1]);
    const admin = await connect(`${service.url}/admin`, { ...MODES[0], auth: { token: "let-me-in" } });
    open.push(root, admin);
    const bytes = nextEventArgs(root, "blob");
    await emitter.to(root.id!).emit("blob", "file.bin", Buffer.from("edgeio binary"));
    const [name, data] = await bytes;
    expect(name).toBe("file.bin");
    expect(Buffer.from(data as Uint8Array).toString()).toBe("edgeio binary");

    const adminEvent = nextEvent(admin, "admin:notice");
    const result = await emitter.of("/admin").emit("admin:notice", "for admins");
    expect(await adminEvent).toBe("for admins");
    expect(result).toMatchObject({ rooms: 0, sockets: 1 });
  });

  it("surfaces the service's refusals as typed errors", async () => {
    const wrongKey = new Emitter({ url: service.url, apiKey: "not-a-valid-key-0000" });
    await expect(wrongKey.emit("x")).rejects.toBeInstanceOf(AuthenticationError);
    const invalid = await emitter
      .to("x".repeat(300))
      .emit("x")
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ValidationError);
    expect((invalid as ValidationError).issues[0].path).toEqual(["rooms", 0]);
  });
});
