import { describe, expect, it } from "vitest";
import { createDecoder, encodePacket, PacketType, type Packet } from "./socketio-codec";
import { authFromHandshakeQuery, connectErrorDataV4, connectPacketV4, parseConnectNamespace } from "./socketio-v4";

describe("parseConnectNamespace", () => {
  it("splits the query a 2.x client appends to its CONNECT namespace", () => {
    expect(parseConnectNamespace("/chat?token=abc&x=%C3%A9")).toEqual({ nsp: "/chat", query: { token: "abc", x: "é" } });
    expect(parseConnectNamespace("/chat")).toEqual({ nsp: "/chat", query: {} });
    expect(parseConnectNamespace("/")).toEqual({ nsp: "/", query: {} });
  });

  it("keeps at most 64 parameters", () => {
    const many = Array.from({ length: 100 }, (_, i) => `k${i}=v`).join("&");
    expect(Object.keys(parseConnectNamespace(`/a?${many}`).query)).toHaveLength(64);
  });
});

describe("authFromHandshakeQuery", () => {
  it("drops Engine.IO's own parameters", () => {
    expect(authFromHandshakeQuery({ EIO: "3", transport: "polling", t: "N1", b64: "1", token: "jwt", room: "r" })).toEqual({
      token: "jwt",
      room: "r",
    });
  });
});

describe("server packets", () => {
  it("CONNECT carries no sid, for the default namespace and others", () => {
    expect(encodePacket(connectPacketV4("/"))).toEqual(["40"]);
    expect(encodePacket(connectPacketV4("/chat"))).toEqual(["40/chat,"]);
  });

  it("a connect error is err.data when set, else the message (Socket.IO 4 with allowEIO3)", () => {
    const send = (data: unknown) => encodePacket({ type: PacketType.CONNECT_ERROR, nsp: "/chat", data });
    expect(send(connectErrorDataV4({ message: "nope" }))).toEqual(['44/chat,"nope"']);
    expect(send(connectErrorDataV4({ message: "nope", data: { code: 7 } }))).toEqual(['44/chat,{"code":7}']);
  });
});

// socket.io-parser 3.x, what socket.io-client 2.x encodes and decodes with: the official 4.x
// parser edgeio uses must read its packets, and it must read ours.
type V3Packet = { type: number; nsp: string; data?: unknown; id?: number; query?: string };
interface ParserV3 {
  Encoder: new () => { encode(packet: V3Packet, callback: (parts: Array<string | Uint8Array>) => void): void };
  Decoder: new () => { on(event: "decoded", listener: (packet: V3Packet) => void): void; add(part: string | Uint8Array): void };
}
const imported = (await import("socket.io-client-v2/node_modules/socket.io-parser" as string)) as ParserV3 & { default?: ParserV3 };
const parserV3: ParserV3 = imported.default ?? imported;

function encodeV3(packet: V3Packet): Array<string | Uint8Array> {
  let parts: Array<string | Uint8Array> = [];
  new parserV3.Encoder().encode(packet, (encoded) => {
    parts = encoded;
  });
  return parts;
}

function decodeV3(parts: Array<string | ArrayBuffer>): V3Packet[] {
  const decoder = new parserV3.Decoder();
  const packets: V3Packet[] = [];
  decoder.on("decoded", (packet) => packets.push(packet));
  for (const part of parts) decoder.add(typeof part === "string" ? part : Buffer.from(part));
  return packets;
}

function decodeOurs(parts: Array<string | Uint8Array>): Packet[] {
  const packets: Packet[] = [];
  const decoder = createDecoder((packet) => packets.push(packet));
  for (const part of parts) decoder.add(typeof part === "string" ? part : new Uint8Array(part).buffer);
  return packets;
}

/** Engine.IO message frames ("4…" text, raw binary) → the Socket.IO parts inside them. */
const unframe = (frames: Array<string | ArrayBuffer>) => frames.map((frame) => (typeof frame === "string" ? frame.slice(1) : frame));

describe("against socket.io-parser 3.x (socket.io-client 2.x)", () => {
  it("reads a 2.x CONNECT with its query in the namespace (as 2.x's manager appends it)", () => {
    const [connect] = decodeOurs(encodeV3({ type: 0, nsp: "/chat?token=abc" }));
    expect(connect).toMatchObject({ type: PacketType.CONNECT, nsp: "/chat?token=abc" });
    expect(parseConnectNamespace(connect.nsp)).toEqual({ nsp: "/chat", query: { token: "abc" } });
  });

  it("reads a 2.x binary event with an ack id, attachments included (2.x picks BINARY_EVENT itself)", () => {
    const [event] = decodeOurs(encodeV3({ type: 5, nsp: "/", id: 7, data: ["up", Buffer.from([1, 2]), { deep: [Buffer.from([3])] }] }));
    expect([PacketType.EVENT, PacketType.BINARY_EVENT]).toContain(event.type); // socket.io-parser 4 reports it as EVENT once reassembled
    expect(event.id).toBe(7);
    const [name, first, nested] = event.data as [string, ArrayBuffer, { deep: ArrayBuffer[] }];
    expect(name).toBe("up");
    expect([...new Uint8Array(first)]).toEqual([1, 2]);
    expect([...new Uint8Array(nested.deep[0])]).toEqual([3]);
  });

  it("writes CONNECT, connect errors, binary events and acks that 2.x decodes", () => {
    expect(decodeV3(unframe(encodePacket(connectPacketV4("/chat"))))).toEqual([{ type: 0, nsp: "/chat" }]);
    const error = decodeV3(
      unframe(encodePacket({ type: PacketType.CONNECT_ERROR, nsp: "/", data: connectErrorDataV4({ message: "nope" }) })),
    );
    expect(error).toEqual([{ type: 4, nsp: "/", data: "nope" }]);
    const [binary] = decodeV3(unframe(encodePacket({ type: PacketType.EVENT, nsp: "/", data: ["down", new Uint8Array([9, 8])] })));
    expect(binary.type).toBe(5);
    expect([...((binary.data as unknown[])[1] as Uint8Array)]).toEqual([9, 8]);
    const [ack] = decodeV3(unframe(encodePacket({ type: PacketType.ACK, nsp: "/chat", id: 3, data: [{ ok: true }] })));
    expect(ack).toEqual({ type: 3, nsp: "/chat", id: 3, data: [{ ok: true }] });
  });
});
