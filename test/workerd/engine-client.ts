/**
 * A tiny hand-made Engine.IO v4 / Socket.IO v5 client for byte-level tests inside workerd.
 * Polling goes through `SELF.fetch`; WebSockets through `SELF.fetch` with `Upgrade: websocket`
 * and `response.webSocket.accept()`. Nothing here interprets more than the tests need, so
 * every frame the server sends can be asserted exactly.
 */
import { env, SELF } from "cloudflare:test";
import { expect } from "vitest";
import { fromBase64url } from "../../protocol/base64";

export const ORIGIN = "http://edgeio.test";
export const PATH = "/socket.io/";
const SEPARATOR = "\x1e";
const DEFAULT_WAIT = 4000;

export type Frame = string | ArrayBuffer;

export function engineUrl(query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, value);
  return `${ORIGIN}${PATH}?${params}`;
}

/** The ConnectionHost a sid or socket id names (its first dot-separated part). */
export function hostOf(id: string): string {
  return new TextDecoder().decode(fromBase64url(id.split(".")[0]));
}

export function hostStubFor(id: string) {
  const host = hostOf(id);
  return env.CONNECTION_HOST.get(env.CONNECTION_HOST.idFromName(host));
}

export async function expectEngineError(response: Response, status: number, code: number, message: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/json");
  expect(await response.text()).toBe(JSON.stringify({ code, message }));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface OpenPacket {
  sid: string;
  upgrades: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

/** Frames arrive here; tests take them out by predicate, in arrival order. */
class Inbox {
  readonly log: Frame[] = [];
  private pending: Frame[] = [];
  private waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  private endWaiters: Array<() => void> = [];
  ended = false;

  push(frame: Frame): void {
    this.log.push(frame);
    const index = this.waiters.findIndex((w) => w.match(frame));
    if (index >= 0) {
      const [waiter] = this.waiters.splice(index, 1);
      waiter.resolve(frame);
      return;
    }
    this.pending.push(frame);
  }

  end(): void {
    this.ended = true;
    for (const resolve of this.endWaiters.splice(0)) resolve();
  }

  whenEnded(timeout = DEFAULT_WAIT): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("transport did not end in time")), timeout);
      this.endWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  take(match: (f: Frame) => boolean, timeout = DEFAULT_WAIT): Promise<Frame> {
    const index = this.pending.findIndex(match);
    if (index >= 0) return Promise.resolve(this.pending.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (frame: Frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching frame in ${timeout} ms; received: ${JSON.stringify(this.log.map(describe))}`));
      }, timeout);
      this.waiters.push(waiter);
    });
  }
}

function describe(frame: Frame): string {
  return typeof frame === "string" ? frame.slice(0, 200) : `<${frame.byteLength} bytes>`;
}

export const startsWith = (prefix: string) => (frame: Frame) => typeof frame === "string" && frame.startsWith(prefix);
export const isBinary = (frame: Frame) => typeof frame !== "string";

/** Common surface of both transports, used by the Socket.IO helpers below. */
export interface Conn {
  readonly sid: string;
  readonly inbox: Inbox;
  /** Sends Engine.IO packets (polling: one POST joined by \x1e, must answer "ok"). */
  send(...frames: Frame[]): Promise<void>;
  autoPong: boolean;
}

// ════════════════════════════ long-polling ════════════════════════════

export class PollingSession implements Conn {
  readonly inbox = new Inbox();
  autoPong = true;
  /** Stop polling after a noop ("6"), as a client does while it upgrades. */
  pauseOnNoop = false;
  /** Status of the GET that ended the loop (400 when the session is gone). */
  endStatus: number | null = null;
  endBody: string | null = null;
  private running = false;
  private loop: Promise<void> | null = null;

  private constructor(
    readonly open: OpenPacket,
    readonly raw: string,
  ) {}

  get sid(): string {
    return this.open.sid;
  }

  static async handshake(query: Record<string, string> = {}): Promise<PollingSession> {
    const response = await SELF.fetch(engineUrl({ EIO: "4", transport: "polling", ...query }));
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body.startsWith("0{")).toBe(true);
    return new PollingSession(JSON.parse(body.slice(1)) as OpenPacket, body);
  }

  get(): Promise<Response> {
    return SELF.fetch(engineUrl({ EIO: "4", transport: "polling", sid: this.sid }));
  }

  post(body: string | ArrayBuffer, headers?: HeadersInit): Promise<Response> {
    return SELF.fetch(engineUrl({ EIO: "4", transport: "polling", sid: this.sid }), {
      method: "POST",
      body,
      headers: { "Content-Type": "text/plain;charset=UTF-8", ...headers },
    });
  }

  async send(...frames: Frame[]): Promise<void> {
    const body = frames.map((f) => (typeof f === "string" ? f : `b${toBase64(new Uint8Array(f))}`)).join(SEPARATOR);
    const response = await this.post(body);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("ok");
  }

  /** Keeps one GET outstanding, answers pings, and files every packet in the inbox. */
  start(): this {
    if (this.running) return this;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const response = await this.get();
        const body = await response.text();
        if (response.status !== 200) {
          this.endStatus = response.status;
          this.endBody = body;
          this.inbox.end();
          break;
        }
        let stop = false;
        for (const packet of body.split(SEPARATOR)) {
          this.inbox.push(packet);
          if (packet === "2" && this.autoPong) await this.post("3");
          if (packet === "1") stop = true;
          if (packet === "6" && this.pauseOnNoop) stop = true;
        }
        if (stop) {
          this.inbox.end();
          break;
        }
      }
      this.running = false;
    })().catch((error: unknown) => {
      this.running = false;
      this.endStatus = -1;
      this.endBody = String(error);
      this.inbox.end();
    });
    return this;
  }

  /** Lets the outstanding GET finish, then stops polling. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Resolves when the poll loop has ended (close packet or an error status). */
  async ended(timeout?: number): Promise<void> {
    await this.inbox.whenEnded(timeout);
  }
}

// ════════════════════════════ WebSocket ════════════════════════════

export class WebSocketSession implements Conn {
  readonly inbox = new Inbox();
  autoPong = true;
  closeCode: number | null = null;
  closeReason: string | null = null;
  sid = "";
  open: OpenPacket | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const data = event.data as Frame;
      // A ping may still arrive after this side closed: nothing to answer then.
      if (data === "2" && this.autoPong && ws.readyState === WebSocket.OPEN) ws.send("3");
      this.inbox.push(data);
    });
    ws.addEventListener("close", (event) => {
      this.closeCode = event.code;
      this.closeReason = event.reason;
      this.inbox.end();
    });
    ws.addEventListener("error", () => this.inbox.end());
  }

  static async connect(query: Record<string, string> = {}): Promise<WebSocketSession> {
    const response = await SELF.fetch(engineUrl({ EIO: "4", transport: "websocket", ...query }), {
      headers: { Upgrade: "websocket" },
    });
    expect(response.status).toBe(101);
    const ws = response.webSocket;
    if (!ws) throw new Error("no webSocket on a 101 response");
    ws.accept();
    // Binary frames as ArrayBuffer (newer compatibility dates default to Blob).
    ws.binaryType = "arraybuffer";
    return new WebSocketSession(ws);
  }

  /** A direct WebSocket session: the first frame must be the open packet. */
  static async handshake(query: Record<string, string> = {}): Promise<WebSocketSession> {
    const session = await WebSocketSession.connect(query);
    const first = await session.inbox.take(() => true);
    expect(typeof first).toBe("string");
    expect((first as string).startsWith("0{")).toBe(true);
    session.open = JSON.parse((first as string).slice(1)) as OpenPacket;
    session.sid = session.open.sid;
    return session;
  }

  /** The WebSocket of a polling → websocket upgrade (probe not sent yet). */
  static async forUpgrade(sid: string): Promise<WebSocketSession> {
    const session = await WebSocketSession.connect({ sid });
    session.sid = sid;
    return session;
  }

  async send(...frames: Frame[]): Promise<void> {
    for (const frame of frames) this.ws.send(frame);
  }

  async ended(timeout?: number): Promise<void> {
    await this.inbox.whenEnded(timeout);
  }

  close(): void {
    try {
      this.ws.close(1000, "bye");
    } catch {
      // already closed
    }
  }
}

// ════════════════════════════ Socket.IO on top ════════════════════════════

let ackCounter = 100;
export const nextAckId = () => ++ackCounter;

/** Prefix of a Socket.IO packet of `type` in namespace `nsp` ("/" has no prefix). */
export function prefix(type: number, nsp = "/"): string {
  return `4${type}${nsp === "/" ? "" : `${nsp},`}`;
}

/** CONNECT to a namespace; resolves with the reply frame ("40…" or "44…"). */
export async function connectNamespace(conn: Conn, nsp = "/", auth?: unknown): Promise<string> {
  const head = prefix(0, nsp);
  await conn.send(`${head}${auth === undefined ? "" : JSON.stringify(auth)}`);
  const reply = await conn.inbox.take((f) => typeof f === "string" && (f.startsWith(`${head}{`) || f.startsWith(`${prefix(4, nsp)}{`)));
  return reply as string;
}

/** CONNECT that must succeed; returns the Socket.IO socket id. */
export async function connectOk(conn: Conn, nsp = "/", auth?: unknown): Promise<string> {
  const reply = await connectNamespace(conn, nsp, auth);
  const head = prefix(0, nsp);
  expect(reply.startsWith(head)).toBe(true);
  const body = JSON.parse(reply.slice(head.length)) as { sid: string };
  expect(Object.keys(body)).toEqual(["sid"]);
  return body.sid;
}

/** Emits `[event, ...args]` with an ack id; resolves with the ACK's argument array. */
export async function emitWithAck(conn: Conn, data: unknown[], nsp = "/", timeout?: number): Promise<unknown[]> {
  const id = nextAckId();
  const ackHead = `${prefix(3, nsp)}${id}[`;
  const waiting = conn.inbox.take(startsWith(ackHead), timeout);
  await conn.send(`${prefix(2, nsp)}${id}${JSON.stringify(data)}`);
  const frame = (await waiting) as string;
  return JSON.parse(frame.slice(ackHead.length - 1)) as unknown[];
}

/** An EVENT "echo" round trip: proves the session (and its host) still works. */
export async function echoRoundTrip(conn: Conn, nsp = "/"): Promise<void> {
  const payload = { marker: crypto.randomUUID(), nested: [1, "two", { three: true }] };
  expect(await emitWithAck(conn, ["echo", payload], nsp)).toEqual([payload]);
}

/** Resolves with the args of the next EVENT `event` in `nsp`. */
export async function nextEvent(conn: Conn, event: string, nsp = "/", timeout?: number): Promise<unknown[]> {
  const head = `${prefix(2, nsp)}["${event}"`;
  const frame = (await conn.inbox.take(startsWith(head), timeout)) as string;
  const parsed = JSON.parse(frame.slice(prefix(2, nsp).length)) as unknown[];
  return parsed.slice(1);
}

/** Opens sessions (via `open`) until one lands on `host`; disposes of the others. */
export async function onHost<T extends Conn>(host: string, open: () => Promise<T>, dispose: (c: T) => unknown): Promise<T> {
  for (let i = 0; i < 60; i++) {
    const conn = await open();
    if (hostOf(conn.sid) === host) return conn;
    await dispose(conn);
  }
  throw new Error(`no session landed on ${host}`);
}

/** Opens sessions (via `open`) until two share a ConnectionHost; closes the rest. */
export async function twoOnSameHost<T extends Conn>(open: () => Promise<T>, dispose: (c: T) => void | Promise<void>): Promise<[T, T]> {
  const byHost = new Map<string, T>();
  for (let i = 0; i < 40; i++) {
    const conn = await open();
    const host = hostOf(conn.sid);
    const other = byHost.get(host);
    if (other) {
      for (const [h, c] of byHost) if (h !== host) await dispose(c);
      return [other, conn];
    }
    byHost.set(host, conn);
  }
  throw new Error("no two sessions landed on the same host");
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
