/**
 * Real socket.io-client 4.8 in Node against the service started as the README starts it
 * (`wrangler dev` of an app module), in each transport mode.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { connect, connectOnOtherHost, hostOf, nextEvent, nextEventArgs, sleep, TRANSPORT_MODES, upgraded } from "../helpers/clients";
import { startService, type RunningService } from "../helpers/service";

let service: RunningService;
const open: Socket[] = [];

beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  for (const socket of open) socket.close();
  await service?.stop();
});

/** Engine.IO packets and upgrade steps of a socket, to explain a failure. */
function traceEngine(socket: Socket): string[] {
  const trace: string[] = [];
  const engine = socket.io.engine;
  engine.on("packet", (packet) => trace.push(`in:${packet.type}${typeof packet.data === "string" ? packet.data.slice(0, 16) : ""}`));
  engine.on("packetCreate", (packet) => trace.push(`out:${packet.type}${typeof packet.data === "string" ? packet.data.slice(0, 16) : ""}`));
  engine.on("upgrading", () => trace.push("upgrading"));
  engine.on("upgrade", () => trace.push("upgrade"));
  engine.on("upgradeError", (error) => trace.push(`upgradeError:${error.message}`));
  trace.push(`transport:${engine.transport.name}`);
  return trace;
}

function track<T extends Socket>(socket: T): T {
  open.push(socket);
  return socket;
}

describe.each(TRANSPORT_MODES)("transport mode: $name", ({ name, transports }) => {
  const options = transports ? { transports } : {};

  it("connects to / and reports the expected transport", async () => {
    const socket = track(await connect(service.url, options));
    expect(socket.id).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{20}$/);
    if (name === "polling+upgrade") await upgraded(socket);
    const expected = name === "polling" ? "polling" : "websocket";
    expect(socket.io.engine.transport.name).toBe(expected);
    expect(await socket.timeout(5000).emitWithAck("transport")).toBe(expected);
    socket.close();
  });

  it("connects to a custom namespace with auth, and refuses bad auth with the middleware's error", async () => {
    const admin = track(await connect(`${service.url}/admin`, { ...options, auth: { token: "let-me-in" } }));
    const who = (await admin.timeout(5000).emitWithAck("whoami")) as { id: string; role: string; auth: unknown };
    expect(who).toEqual({ id: admin.id, role: "admin", auth: { token: "let-me-in" } });

    const refused = connect(`${service.url}/admin`, { ...options, auth: { token: "wrong" } });
    await expect(refused).rejects.toMatchObject({ message: "not authorized", data: { reason: "bad_token" } });
    const unknown = connect(`${service.url}/does-not-exist`, options);
    await expect(unknown).rejects.toMatchObject({ message: "Invalid namespace" });
    admin.close();
  });

  it("carries JSON and binary payloads both ways with acks", async () => {
    const socket = track(await connect(service.url, options));
    const json = { text: "héllo ✓", list: [1, 2, { deep: null }], flag: true };
    expect(await socket.timeout(5000).emitWithAck("echo", json)).toEqual(json);

    const buffer = Buffer.from([0, 1, 2, 250, 255]);
    const typed = new Uint8Array([9, 8, 7]);
    const nested = { a: { b: [Buffer.from("first"), { c: Buffer.from("second") }] }, n: 42 };
    const reply = await new Promise<unknown[]>((resolve) =>
      socket.timeout(5000).emit("echo", buffer, typed, nested, (error: Error | null, ...args: unknown[]) => {
        if (error) throw error;
        resolve(args);
      }),
    );
    expect(Buffer.from(reply[0] as Buffer)).toEqual(buffer);
    expect(Buffer.from(reply[1] as Buffer)).toEqual(Buffer.from(typed));
    const echoedNested = reply[2] as { a: { b: [Buffer, { c: Buffer }] }; n: number };
    expect(Buffer.from(echoedNested.a.b[0]).toString()).toBe("first");
    expect(Buffer.from(echoedNested.a.b[1].c).toString()).toBe("second");
    expect(echoedNested.n).toBe(42);

    // Without an ack the echo comes back as an event, binary included.
    const event = nextEventArgs(socket, "echo");
    socket.emit("echo", "plain", Buffer.from("bin"));
    const [plain, bin] = await event;
    expect(plain).toBe("plain");
    expect(Buffer.from(bin as Buffer).toString()).toBe("bin");

    // Server → client ack: the server asks, the client answers through its ack.
    socket.on("question", (question: string, ack: (answer: unknown) => void) => ack({ heard: question, bytes: Buffer.from("ok") }));
    const answer = (await socket.timeout(5000).emitWithAck("ask", "ping?")) as { answer: { heard: string; bytes: Buffer } };
    expect(answer.answer.heard).toBe("ping?");
    expect(Buffer.from(answer.answer.bytes).toString()).toBe("ok");

    // A server → client ack that never comes times out on the server.
    socket.off("question");
    socket.on("question", () => undefined);
    expect(await socket.timeout(8000).emitWithAck("ask", "silence")).toEqual({ error: "operation has timed out" });
    socket.close();
  });

  it("broadcasts to a room across hosts, excluding the sender and `except`", async () => {
    const a = track(await connect(service.url, options));
    const b = track(await connectOnOtherHost(service.url, [hostOf(a)], options));
    const c = track(await connectOnOtherHost(service.url, [hostOf(a), hostOf(b)], options));
    expect(new Set([hostOf(a), hostOf(b), hostOf(c)]).size).toBe(3);
    const room = `room-${name}`;
    for (const socket of [a, b, c]) await socket.timeout(5000).emitWithAck("join", room);

    const received: Record<string, unknown[]> = { a: [], b: [], c: [] };
    a.on("news", (m) => received.a.push(m));
    b.on("news", (m) => received.b.push(m));
    c.on("news", (m) => received.c.push(m));

    a.emit("to-room", room, "news", "from a");
    a.emit("to-room-except", room, c.id, "news", "from a, not c");
    b.emit("io-to-room", room, "news", "to everyone");
    await sleep(800);
    // io.to(room) includes its caller's own socket; socket.to(room) excludes the sender.
    // Order holds per sender; between senders it is not defined, so compare a's messages in order.
    const fromA = (list: unknown[]) => list.filter((m) => String(m).startsWith("from a"));
    expect(received.a).toEqual(["to everyone"]);
    expect([...received.b].sort()).toEqual(["from a", "from a, not c", "to everyone"]);
    expect(fromA(received.b)).toEqual(["from a", "from a, not c"]);
    expect([...received.c].sort()).toEqual(["from a", "to everyone"]);

    // After leaving, a socket gets nothing more; a socket id works as a room.
    await c.timeout(5000).emitWithAck("leave", room);
    a.emit("to-room", room, "news", "after c left");
    a.emit("to-room", c.id, "news", "direct to c");
    await sleep(800);
    expect(fromA(received.b)).toEqual(["from a", "from a, not c"]);
    expect(received.b.slice(3)).toEqual(["after c left"]);
    expect(received.c.slice(2)).toEqual(["direct to c"]);
    for (const socket of [a, b, c]) socket.close();
  });

  it("moves sockets on several hosts into a room with socketsJoin", async () => {
    const a = track(await connect(service.url, options));
    const b = track(await connectOnOtherHost(service.url, [hostOf(a)], options));
    const from = `from-${name}`;
    const to = `to-${name}`;
    await a.timeout(5000).emitWithAck("join", from);
    await b.timeout(5000).emitWithAck("join", from);
    await a.timeout(5000).emitWithAck("sockets-join", from, to);
    expect(await b.timeout(5000).emitWithAck("rooms")).toContain(to);
    const got = nextEvent(b, "moved");
    a.emit("io-to-room", to, "moved", "yes");
    expect(await got).toBe("yes");
    a.close();
    b.close();
  });

  it("disconnects from either side", async () => {
    // Client side: the server runs its disconnect path; the socket is gone from rooms.
    const watcher = track(await connect(service.url, options));
    const leaving = track(await connect(service.url, options));
    const room = `bye-${name}`;
    await watcher.timeout(5000).emitWithAck("join", room);
    await leaving.timeout(5000).emitWithAck("join", room);
    leaving.disconnect();
    await sleep(500);
    const got: unknown[] = [];
    leaving.on("news", (m) => got.push(m));
    watcher.emit("io-to-room", room, "news", "only watcher");
    expect(await nextEvent(watcher, "news")).toBe("only watcher");
    expect(got).toEqual([]);

    // Server side, namespace only: the client hears "io server disconnect" and does not reconnect.
    const kicked = track(await connect(service.url, { ...options, reconnection: true }));
    const reason = nextEvent<string>(kicked, "disconnect");
    kicked.emit("disconnect-me", false);
    expect(await reason).toBe("io server disconnect");
    await sleep(500);
    expect(kicked.connected).toBe(false);
    kicked.close();
    watcher.close();
  });

  it("reconnects after the server closes the transport", async () => {
    const socket = track(await connect(service.url, { ...options, reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 }));
    const firstId = socket.id;
    const trace = traceEngine(socket);
    const reason = nextEvent<string>(socket, "disconnect", 15_000).catch((error: Error) => {
      throw new Error(`${error.message}; engine trace: ${trace.join(" ")}`);
    });
    trace.push(`emit@${socket.io.engine.transport.name}`);
    socket.emit("close-transport");
    expect(await reason).toBe("transport close");
    await nextEvent(socket, "connect", 10_000);
    expect(socket.id).not.toBe(firstId);
    expect(await socket.timeout(5000).emitWithAck("echo", "back")).toBe("back");
    socket.close();
  });
});

describe("fan-out at scale", () => {
  it("50 clients on at least 3 hosts each get every broadcast exactly once, in order per sender", async () => {
    const modes = [{ transports: ["websocket"] }, { transports: ["polling"] }, {}];
    const clients = await Promise.all(Array.from({ length: 50 }, (_, i) => connect(service.url, modes[i % 3])));
    clients.forEach(track);
    expect(new Set(clients.map(hostOf)).size).toBeGreaterThanOrEqual(3);
    const room = "fifty";
    await Promise.all(clients.map((client) => client.timeout(10_000).emitWithAck("join", room)));

    const senders = clients.slice(0, 3);
    const perSender = 20;
    const received = clients.map(() => new Map<number, number[]>());
    clients.forEach(
      (client, index) =>
        void client.on("seq", (sender: number, n: number) => {
          const list = received[index].get(sender) ?? [];
          list.push(n);
          received[index].set(sender, list);
        }),
    );
    for (let n = 0; n < perSender; n++) {
      for (const [s, sender] of senders.entries()) sender.emit("io-to-room", room, "seq", s, n);
    }
    const expected = Array.from({ length: perSender }, (_, n) => n);
    const deadline = Date.now() + 20_000;
    const complete = () => received.every((map) => senders.every((_, s) => (map.get(s)?.length ?? 0) >= perSender));
    while (!complete() && Date.now() < deadline) await sleep(100);
    await sleep(300); // let any duplicate arrive before counting
    for (const map of received) {
      for (let s = 0; s < senders.length; s++) expect(map.get(s)).toEqual(expected);
    }
    for (const client of clients) client.close();
  });
});
