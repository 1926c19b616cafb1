/**
 * No ghost presence, inside workerd (echo app; sockets take part in presence by setting
 * `data.user`). A host evicted with its WebSockets closed, and a member whose host never
 * reported a leave, each produce exactly one `presence:leave`, and presence ends up empty.
 */
import { env, evictDurableObject, SELF } from "cloudflare:test";
import { afterEach, expect, it } from "vitest";
import { roomStub, type EdgeioBindings } from "../../durable-objects/bindings";
import { fromBase64url } from "../../worker/ids";

const bindings = env as unknown as EdgeioBindings;

/** A minimal Socket.IO-over-WebSocket client that answers pings and records every event. */
class RawClient {
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

  static async open(): Promise<RawClient> {
    const response = await SELF.fetch("http://edgeio.test/socket.io/?EIO=4&transport=websocket", { headers: { Upgrade: "websocket" } });
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
      this.waiters.push({ match, resolve: (f) => (clearTimeout(timer), resolve(f)) });
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

async function member(userId: string, room: string, avoidHost?: string): Promise<RawClient> {
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

async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const leavesOf = (client: RawClient, userId: string) =>
  client.events.filter(([name, payload]) => name === "presence:leave" && payload.user.id === userId).length;
const joinsOf = (client: RawClient, userId: string) =>
  client.events.filter(([name, payload]) => name === "presence:join" && payload.user.id === userId).length;
const usersIn = async (room: string) => (await roomStub(bindings, "/", room).presence()).presence.map((entry) => entry.user.id);

const open: RawClient[] = [];
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

it("announces the leave once when a host is evicted with its WebSockets closed", async () => {
  const room = "conversation:evict";
  const observer = await member("observer", room);
  const ghost = await member("ghost", room, observer.host);
  open.push(observer, ghost);
  await eventually(() => joinsOf(observer, "ghost") === 1, "the ghost's presence:join");
  expect(await usersIn(room)).toEqual(["observer", "ghost"]);

  await evictDurableObject(bindings.CONNECTION_HOST.get(bindings.CONNECTION_HOST.idFromName(ghost.host)), { webSockets: "close" });

  await eventually(() => leavesOf(observer, "ghost") === 1, "the ghost's presence:leave");
  await eventually(async () => !(await usersIn(room)).includes("ghost"), "the ghost to leave the presence list");
  // A second lease period and grace pass: still exactly one leave, and the observer stays.
  await new Promise((r) => setTimeout(r, 2_000));
  expect(leavesOf(observer, "ghost")).toBe(1);
  expect(joinsOf(observer, "ghost")).toBe(1);
  expect(await usersIn(room)).toEqual(["observer"]);
});

it("expires by lease a member whose host never reported its leave", async () => {
  const room = "conversation:lease";
  const observer = await member("observer", room);
  open.push(observer);
  // A member registered for a socket its host does not have: what a crash between join and leave leaves behind.
  const phantom = `${observer.socketId.split(".")[0]}.AAAAAAAAAAAAAAAAAAAA`;
  const result = await roomStub(bindings, "/", room).join(phantom, observer.host, { user: { id: "phantom", name: "P" }, deviceId: "d" }, { nsp: "/", room });
  expect(result.ok).toBe(true);
  await eventually(() => joinsOf(observer, "phantom") === 1, "the phantom's presence:join");

  await eventually(() => leavesOf(observer, "phantom") === 1, "the phantom's presence:leave by lease");
  expect(await usersIn(room)).toEqual(["observer"]);
  await new Promise((r) => setTimeout(r, 2_000));
  expect(leavesOf(observer, "phantom")).toBe(1);
  expect((await roomStub(bindings, "/", room).presence()).counts).toEqual({ connections: 1, users: 1 });
});

it("refuses oversize presence state with a clear error", async () => {
  const stub = roomStub(bindings, "/", "conversation:bounds");
  const big = await stub.join("x.BBBBBBBBBBBBBBBBBBBB", "local:0", { user: { id: "u", name: "U" }, state: "y".repeat(5000) }, { nsp: "/", room: "conversation:bounds" });
  expect(big).toMatchObject({ ok: false, error: "state_too_large" });
  expect((await stub.presence()).counts.connections).toBe(0);
});
