/**
 * Socket.IO's server API across hosts with real socket.io-client 4.x: fetchSockets and
 * RemoteSocket, broadcast acknowledgements, serverSideEmit and `local`, with sockets on three
 * hosts, and with one host made unreachable (ENVIRONMENT=test's stall hook) to show callers
 * get what answered plus the failure within their timeout.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { connect, connectOnOtherHost, hostOf, nextEvent } from "../helpers/clients";
import { startService, type RunningService } from "../helpers/service";

let service: RunningService;
let clients: Socket[] = [];

beforeAll(async () => {
  service = await startService({ environment: "test", vars: { HOST_POOL_SIZE: 3 } });
}, 90_000);
afterAll(async () => {
  await service?.stop();
});
afterEach(async () => {
  for (const client of clients) client.close();
  clients = [];
});

/** Three clients, each on its own host, each answering "question" and "ack-me". */
async function threeHosts(): Promise<[Socket, Socket, Socket]> {
  const a = await connect(service.url, { transports: ["websocket"] });
  const b = await connectOnOtherHost(service.url, [hostOf(a)], { transports: ["polling"] });
  const c = await connectOnOtherHost(service.url, [hostOf(a), hostOf(b)]);
  clients.push(a, b, c);
  for (const [client, name] of [
    [a, "a"],
    [b, "b"],
    [c, "c"],
  ] as const) {
    client.on("question", (question: string, answer: (r: string) => void) => answer(`${name}:${question}`));
    client.on("ack-me", (_room: string, answer: (r: string) => void) => answer(client.id!));
    await client.timeout(5000).emitWithAck("set-data", "name", name);
  }
  return [a, b, c];
}

const hostOfId = (id: string) => Buffer.from(id.split(".")[0], "base64url").toString();
const ask = <T>(client: Socket, event: string, ...args: unknown[]) => client.timeout(10_000).emitWithAck(event, ...args) as Promise<T>;

interface Fetched {
  sockets: Array<{ id: string; rooms: string[]; data: { name: string }; query: Record<string, string> }>;
  failures: Array<{ host: string; error: string }>;
}

async function stall(host: string, stalled: boolean): Promise<void> {
  const response = await fetch(`${service.url}/_edgeio/test/stall?host=${encodeURIComponent(host)}&stalled=${stalled ? 1 : 0}`, {
    method: "POST",
  });
  expect(response.status).toBe(200);
}

describe("fetchSockets across hosts", () => {
  it("returns every socket of a room with its data and rooms; a RemoteSocket acts on the live socket", async () => {
    const [a, b, c] = await threeHosts();
    expect(new Set([a, b, c].map(hostOf)).size).toBe(3);
    for (const client of [a, b, c]) await ask(client, "join", "team");

    const { sockets, failures } = await ask<Fetched>(a, "fetch-sockets", { room: "team" });
    expect(failures).toEqual([]);
    expect(sockets.map((s) => s.id).sort()).toEqual([a.id, b.id, c.id].sort());
    for (const socket of sockets) {
      const name = socket.id === a.id ? "a" : socket.id === b.id ? "b" : "c";
      expect(socket.data).toMatchObject({ name });
      expect(socket.rooms.sort()).toEqual([socket.id, "team"].sort());
      expect(socket.query).toMatchObject({ EIO: "4" });
    }

    // emit on a remote socket reaches it; timeout().emitWithAck gets its answer back.
    const received = nextEvent(c, "from-remote");
    expect(await ask(a, "remote", { id: c.id, action: "emit", arg: "hello" })).toEqual({ ok: true });
    expect(await received).toBe("hello");
    expect(await ask(a, "remote", { id: c.id, action: "ask", arg: "q" })).toEqual({ answer: "c:q" });

    // join/leave on a remote socket; the private-room rules hold (another socket's id is skipped).
    await ask(a, "remote", { id: c.id, action: "join", arg: "extra" });
    await ask(a, "remote", { id: c.id, action: "join", arg: b.id });
    expect((await ask<string[]>(c, "rooms")).sort()).toEqual([c.id, "team", "extra"].sort());
    await ask(a, "remote", { id: c.id, action: "leave", arg: "extra" });
    expect((await ask<string[]>(c, "rooms")).sort()).toEqual([c.id, "team"].sort());

    const gone = nextEvent(c, "disconnect");
    await ask(a, "remote", { id: c.id, action: "disconnect" });
    expect(await gone).toBe("io server disconnect");
    const after = await ask<Fetched>(a, "fetch-sockets", { room: "team" });
    expect(after.sockets.map((s) => s.id).sort()).toEqual([a.id, b.id].sort());
  });

  it("with one host unreachable, returns the others plus that host's failure within the timeout", async () => {
    const [a, b, c] = await threeHosts();
    for (const client of [a, b, c]) await ask(client, "join", "stalled-room");
    await stall(hostOf(c), true);
    try {
      const started = Date.now();
      const { sockets, failures } = await ask<Fetched>(a, "fetch-sockets", { room: "stalled-room", timeout: 1000 });
      expect(Date.now() - started).toBeLessThan(5000); // a deadline, as the issue asks: never hangs
      expect(sockets.map((s) => s.id).sort()).toEqual([a.id, b.id].sort());
      expect(failures).toEqual([{ host: hostOf(c), error: "timeout" }]);

      // A broadcast with acks reports the late host's client as Socket.IO reports a late client.
      const acked = await ask<{ error: string | null; responses: string[] }>(a, "ack-broadcast", { room: "stalled-room", timeout: 1000 });
      expect(acked.error).toBe("operation has timed out");
      expect(acked.responses.sort()).toEqual([a.id, b.id].sort());
    } finally {
      await stall(hostOf(c), false);
    }
  });

  it("`local` reaches only the calling host's sockets", async () => {
    const [a, b] = await threeHosts();
    for (const client of [a, b]) await ask(client, "join", "local-room");
    const { sockets } = await ask<Fetched>(a, "fetch-sockets", { room: "local-room", local: true });
    expect(sockets.map((s) => s.id)).toEqual([a.id]);

    const seenByB: string[] = [];
    b.onAny((event: string) => seenByB.push(event));
    const toA = nextEvent(a, "local-hello");
    const marker = nextEvent(b, "marker");
    a.emit("local-emit", "local-hello");
    a.emit("io-to-room", "local-room", "marker"); // same sender: delivered after the local emit
    expect(await toA).toBe(a.id);
    await marker;
    expect(seenByB).not.toContain("local-hello");
  });
});

describe("broadcast acknowledgements across hosts", () => {
  it("collect one answer per client, and report the late ones as Socket.IO does", async () => {
    const [a, b, c] = await threeHosts();
    for (const client of [a, b, c]) await ask(client, "join", "ackers");

    const all = await ask<{ error: string | null; responses: string[] }>(a, "ack-broadcast", { room: "ackers", timeout: 3000 });
    expect(all.error).toBeNull();
    expect(all.responses.sort()).toEqual([a.id, b.id, c.id].sort());

    // socket.timeout(ms).to(room): the sender is excluded, as with socket.to(room).
    const others = await ask<{ error: string | null; responses: string[] }>(a, "ack-broadcast", {
      room: "ackers",
      timeout: 3000,
      via: "socket",
    });
    expect(others).toEqual({ error: null, responses: expect.arrayContaining([b.id, c.id]) });
    expect(others.responses).toHaveLength(2);

    c.off("ack-me"); // c no longer answers
    const started = Date.now();
    const late = await ask<{ error: string | null; responses: string[] }>(a, "ack-broadcast", { room: "ackers", timeout: 1000 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(late.error).toBe("operation has timed out");
    expect(late.responses.sort()).toEqual([a.id, b.id].sort());

    const rejected = await ask<{ error: string; responses: string[] }>(a, "ack-broadcast-promise", "ackers", 1000);
    expect(rejected.error).toBe("operation has timed out");
    expect(rejected.responses.sort()).toEqual([a.id, b.id].sort());
  });
});

describe("serverSideEmit", () => {
  it("reaches each other host with sockets of the namespace once, and collects one answer per host", async () => {
    const [a, b, c] = await threeHosts();
    // A second socket on b's host: that host must still be reached once, not once per socket.
    let b2 = await connect(service.url);
    for (let attempt = 0; hostOf(b2) !== hostOf(b) && attempt < 50; attempt++) {
      b2.close();
      b2 = await connect(service.url);
    }
    clients.push(b2);
    expect(hostOf(b2)).toBe(hostOf(b));
    const reply = await ask<{ responses: Array<{ payload: string; sockets: string[] }> }>(a, "server-side-emit", "ping!");
    expect(reply.responses).toHaveLength(2);
    const answeringHosts = reply.responses.map((response) => {
      expect(response.payload).toBe("ping!");
      const hosts = new Set(response.sockets.map(hostOfId));
      expect(hosts.size).toBe(1); // one host answered with its own sockets
      return [...hosts][0];
    });
    expect(answeringHosts.sort()).toEqual([hostOf(b), hostOf(c)].sort());
    expect(reply.responses.find((r) => r.sockets.includes(b.id!))?.sockets).toContain(b2.id);
    expect(answeringHosts).not.toContain(hostOf(a));
  });
});
