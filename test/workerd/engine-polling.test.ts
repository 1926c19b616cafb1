/**
 * Long-polling byte by byte: payload framing (\x1e), "ok" answers, binary as "b"+base64,
 * Socket.IO CONNECT / CONNECT_ERROR / EVENT / ACK / BINARY_EVENT / BINARY_ACK.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  connectNamespace,
  connectOk,
  emitWithAck,
  fromBase64,
  hostOf,
  isBinary,
  nextAckId,
  nextEvent,
  PollingSession,
  startsWith,
  toBase64,
} from "./engine-client";

const sessions: PollingSession[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) {
    await session.send("1").catch(() => undefined);
    await session.stop();
  }
});

async function started(): Promise<PollingSession> {
  const session = await PollingSession.handshake();
  sessions.push(session);
  return session.start();
}

const bytes = (...values: number[]) => new Uint8Array(values);

describe("long-polling framing", () => {
  it("a POST of several packets joined by \\x1e is answered ok (text/plain), replies come back joined", async () => {
    const session = await PollingSession.handshake();
    sessions.push(session);
    const connect = await session.post("40");
    expect(connect.status).toBe(200);
    expect(connect.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await connect.text()).toBe("ok");
    const first = await session.get();
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toMatch(/^text\/plain/);
    const [connected, welcome, ...rest] = (await first.text()).split("\x1e");
    expect(connected).toMatch(/^40\{"sid":"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{20}"\}$/);
    const socketId = JSON.parse(connected.slice(2)).sid as string;
    expect(hostOf(socketId)).toBe(hostOf(session.sid));
    expect(welcome).toBe(`42["welcome",{"id":"${socketId}","restored":false}]`);
    expect(rest).toEqual([]);

    // Once connected, one POST with three packets; every reply is queued, then handed over joined.
    const id = nextAckId();
    const post = await session.post(`42${id}["echo","a"]\x1e42["echo","b"]\x1e42["echo","c"]`);
    expect(await post.text()).toBe("ok");
    const packets: string[] = [];
    while (!packets.includes('42["echo","c"]')) {
      const response = await session.get();
      expect(response.status).toBe(200);
      for (const packet of (await response.text()).split("\x1e")) {
        if (packet === "2") await session.post("3");
        else packets.push(packet);
      }
    }
    expect(packets).toEqual([`43${id}["a"]`, '42["echo","b"]', '42["echo","c"]']);
  });

  it("CONNECT to / and to /admin with auth over one session", async () => {
    const session = await started();
    const main = await connectOk(session, "/");
    const admin = await connectOk(session, "/admin", { token: "let-me-in" });
    expect(main).not.toBe(admin);
    expect(await emitWithAck(session, ["whoami"], "/admin")).toEqual([{ id: admin, role: "admin", auth: { token: "let-me-in" } }]);
    expect(await emitWithAck(session, ["echo", 1], "/")).toEqual([1]);
  });

  it('unknown namespace → 44/nope,{"message":"Invalid namespace"}', async () => {
    const session = await started();
    expect(await connectNamespace(session, "/nope")).toBe('44/nope,{"message":"Invalid namespace"}');
    // The session itself is fine.
    await connectOk(session, "/");
  });

  it("middleware error → 44/admin,{message, data}", async () => {
    const session = await started();
    expect(await connectNamespace(session, "/admin", { token: "wrong" })).toBe(
      '44/admin,{"message":"not authorized","data":{"reason":"bad_token"}}',
    );
    expect(await connectNamespace(session, "/admin")).toBe('44/admin,{"message":"not authorized","data":{"reason":"missing_token"}}');
    await connectOk(session, "/admin", { token: "let-me-in" });
  });

  it("EVENT without ack: the echo app emits back; with ack: 43<id>[…]", async () => {
    const session = await started();
    await connectOk(session);
    await session.send('42["echo","hello",{"n":1}]');
    expect(await nextEvent(session, "echo")).toEqual(["hello", { n: 1 }]);
    expect(await emitWithAck(session, ["echo", "x", [1, 2]])).toEqual(["x", [1, 2]]);
  });

  it("ACK server → client: the server's question carries an ack id, our answer resolves its emitWithAck", async () => {
    const session = await started();
    await connectOk(session);
    const id = nextAckId();
    await session.send(`42${id}["ask","meaning?"]`);
    const question = (await session.inbox.take((f) => typeof f === "string" && /^42\d+\["question"/.test(f))) as string;
    const match = /^42(\d+)\["question","meaning\?"\]$/.exec(question);
    expect(match).not.toBeNull();
    await session.send(`43${match![1]}[42]`);
    expect(await session.inbox.take(startsWith(`43${id}`))).toBe(`43${id}[{"answer":42}]`);
  });

  it("BINARY_EVENT: 451-[…placeholder…] + b<base64> comes back with the same bytes", async () => {
    const session = await started();
    await connectOk(session);
    const payload = bytes(0, 1, 2, 250, 255);
    await session.send('451-["echo",{"_placeholder":true,"num":0}]', `b${toBase64(payload)}`);
    const head = await session.inbox.take(startsWith("45"));
    expect(head).toBe('451-["echo",{"_placeholder":true,"num":0}]');
    const attachment = (await session.inbox.take(startsWith("b"))) as string;
    expect(attachment).toBe(`b${toBase64(payload)}`);
    expect(fromBase64(attachment.slice(1))).toEqual(payload);
  });

  it("BINARY_EVENT with an ack → BINARY_ACK 461-<id>[…] + attachment", async () => {
    const session = await started();
    await connectOk(session);
    const id = nextAckId();
    await session.send(`451-${id}["echo",{"_placeholder":true,"num":0}]`, `b${toBase64(bytes(9, 8, 7))}`);
    expect(await session.inbox.take(startsWith("46"))).toBe(`461-${id}[{"_placeholder":true,"num":0}]`);
    expect(await session.inbox.take(startsWith("b"))).toBe(`b${toBase64(bytes(9, 8, 7))}`);
  });

  it("several attachments and nested placeholders, attachments split across POSTs", async () => {
    const session = await started();
    await connectOk(session);
    const a = bytes(1);
    const b = bytes(2, 2);
    const c = new Uint8Array(300).map((_, i) => i % 256);
    const data = [
      "echo",
      { first: { _placeholder: true, num: 0 }, list: [1, { deep: { deeper: [{ _placeholder: true, num: 1 }] } }] },
      "text",
      { _placeholder: true, num: 2 },
    ];
    await session.send(`453-${JSON.stringify(data)}`, `b${toBase64(a)}`);
    await session.send(`b${toBase64(b)}`, `b${toBase64(c)}`);
    const head = (await session.inbox.take(startsWith("45"))) as string;
    expect(head.startsWith("453-")).toBe(true);
    expect(JSON.parse(head.slice(4))).toEqual(data);
    const received: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) received.push(fromBase64(((await session.inbox.take(startsWith("b"))) as string).slice(1)));
    expect(received).toEqual([a, b, c]);
    expect(session.inbox.log.filter(isBinary)).toHaveLength(0);
  });

  it("binary in an ACK from the client (BINARY_ACK 46) reaches the server's emitWithAck", async () => {
    const session = await started();
    await connectOk(session);
    const id = nextAckId();
    await session.send(`42${id}["ask","bytes?"]`);
    const question = (await session.inbox.take((f) => typeof f === "string" && /^42\d+\["question"/.test(f))) as string;
    const askId = /^42(\d+)\[/.exec(question)![1];
    await session.send(`461-${askId}[{"_placeholder":true,"num":0}]`, `b${toBase64(bytes(4, 5, 6))}`);
    expect(await session.inbox.take(startsWith("46"))).toBe(`461-${id}[{"answer":{"_placeholder":true,"num":0}}]`);
    expect(await session.inbox.take(startsWith("b"))).toBe(`b${toBase64(bytes(4, 5, 6))}`);
  });

  it("DISCONNECT from the client (41) leaves the namespace; packets to it are then ignored", async () => {
    const session = await started();
    await connectOk(session, "/");
    await connectOk(session, "/admin", { token: "let-me-in" });
    await session.send("41/admin,");
    await session.send(`42/admin,${nextAckId()}["whoami"]`);
    // "/" still works and nothing came back for /admin.
    expect(await emitWithAck(session, ["echo", "still"])).toEqual(["still"]);
    expect(session.inbox.log.some((f) => typeof f === "string" && f.startsWith("43/admin,"))).toBe(false);
  });

  it("DISCONNECT from the server: disconnect-me → 41, and with close → session ends with 1", async () => {
    const session = await started();
    await connectOk(session, "/");
    await session.send('42["disconnect-me",false]');
    expect(await session.inbox.take(startsWith("41"))).toBe("41");
    await connectOk(session, "/");
    await session.send('42["disconnect-me",true]');
    await session.ended();
    expect(session.inbox.log).toContain("1");
    const response = await session.get();
    expect(response.status).toBe(400);
    expect(await response.text()).toBe('{"code":1,"message":"Session ID unknown"}');
  });

  it("client close packet 1 ends the session; a held GET is released", async () => {
    const session = await started();
    await connectOk(session);
    await session.send("1");
    await session.ended();
    const response = await session.get();
    expect(response.status).toBe(400);
    expect(await response.text()).toBe('{"code":1,"message":"Session ID unknown"}');
  });
});
