/** Test helpers for presence inside workerd: a minimal raw Socket.IO client over WebSocket. */
import { env, SELF } from "cloudflare:test";
import { afterEach, expect } from "vitest";
import { fromBase64url } from "../../protocol/base64";
import { HOST_HEADER } from "../../protocol/internal-headers";

/** A minimal Socket.IO-over-WebSocket client that answers pings and records every event. */
export class RawClient {
  readonly events: Array<[string, any]> = [];
  socketId = "";
  private buffer: string[] = [];
  private waiters: Array<{ match: (frame: string) => boolean; resolve: (frame: string) => void }> = [];
  private nextAck = 1;

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const frame = event.data as string;
      if (frame === "2") return ws.send("3");
      if (frame.startsWith("42")) {
        const [name, payload] = JSON.parse(frame.slice(2));
        this.events.push([name, payload]);
      }
      const index = this.waiters.findIndex((w) => w.match(frame));
      if (index >= 0) this.waiters.splice(index, 1)[0].resolve(frame);
      else this.buffer.push(frame);
    });
  }

  /** A session through the Worker (which picks a host from the pool), or straight on host `host` as the Worker would forward it. */
  static async open(host?: string): Promise<RawClient> {
    const url = "http://edgeio.test/socket.io/?EIO=4&transport=websocket";
    const response = host
      ? await env.CONNECTION_HOST.get(env.CONNECTION_HOST.idFromName(host)).fetch(url, {
          headers: { Upgrade: "websocket", [HOST_HEADER]: host },
        })
      : await SELF.fetch(url, { headers: { Upgrade: "websocket" } });
    expect(response.status).toBe(101);
    const ws = response.webSocket!;
    ws.accept();
    const client = new RawClient(ws);
    await client.frame((f) => f.startsWith("0{"));
    ws.send("40");
    const connected = await client.frame((f) => f.startsWith("40{"));
    client.socketId = JSON.parse(connected.slice(2)).sid;
    return client;
  }

  frame(match: (frame: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const index = this.buffer.findIndex(match);
    if (index >= 0) return Promise.resolve(this.buffer.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("frame not received in time")), timeoutMs);
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  /** Emits an event with an acknowledgement and waits for it. */
  async call(...args: unknown[]): Promise<void> {
    const id = this.nextAck++;
    this.ws.send(`42${id}${JSON.stringify(args)}`);
    await this.frame((f) => f.startsWith(`43${id}[`));
  }

  get host(): string {
    return new TextDecoder().decode(fromBase64url(this.socketId.split(".")[0]));
  }

  close(): void {
    try {
      this.ws.close(1000);
    } catch {
      // already closed
    }
  }
}

export async function member(userId: string, room: string, avoidHost?: string): Promise<RawClient> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const client = await RawClient.open();
    if (avoidHost && client.host === avoidHost) {
      client.close();
      continue;
    }
    await client.call("set-data", "user", { id: userId, name: userId.toUpperCase() });
    await client.call("join", room);
    return client;
  }
  throw new Error("could not land on another host");
}

export async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * For a test file: `joined(host)` opens a raw client on a named host and joins it to `room`;
 * every client opened so is closed after each test.
 */
export function roomMembersOn(room: string): (host: string) => Promise<RawClient> {
  const open: RawClient[] = [];
  afterEach(() => {
    for (const client of open.splice(0)) client.close();
  });
  return async (host) => {
    const client = await RawClient.open(host);
    open.push(client);
    await client.call("join", room);
    return client;
  };
}
