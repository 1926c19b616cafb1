import { describe, expect, it } from "vitest";
import { decodeBinaryPayloadV3, decodePayloadV3, decodeWebSocketFrameV3, encodePayloadV3, toWebSocketFrameV3 } from "./eio3-codec";
import type { EnginePacket } from "./engine-codec";

// The official Engine.IO v3 parser (engine.io-parser 2.x, the one socket.io-client 2.x bundles):
// what it encodes we must decode, and what we encode it must decode.
const PARSER_V2 = "socket.io-client-v2/node_modules/engine.io-parser";
type V2Packet = { type: string; data?: string | Uint8Array };
interface ParserV2 {
  encodePayload(packets: V2Packet[], supportsBinary: boolean, callback: (data: string | Uint8Array) => void): void;
  decodePayload(data: string | Uint8Array, callback: (packet: V2Packet, index: number, total: number) => unknown): void;
  encodePacket(packet: V2Packet, supportsBinary: boolean, callback: (data: string | Uint8Array) => void): void;
  decodePacket(data: string | Uint8Array): V2Packet;
}
const parserV2 = (await import(PARSER_V2 as string)) as ParserV2 & { default?: ParserV2 };
const official: ParserV2 = parserV2.default ?? parserV2;

function officialEncode(packets: V2Packet[], supportsBinary: boolean): string | Uint8Array {
  let out: string | Uint8Array = "";
  official.encodePayload(packets, supportsBinary, (data) => {
    out = data;
  });
  return out;
}

function officialDecode(payload: string): V2Packet[] {
  const packets: V2Packet[] = [];
  official.decodePayload(payload, (packet) => {
    packets.push(packet);
  });
  return packets;
}

const bytes = (...values: number[]) => new Uint8Array(values).buffer as ArrayBuffer;
const binary = (packet: EnginePacket | undefined) => [...new Uint8Array(packet?.data as ArrayBuffer)];

describe("encodePayloadV3", () => {
  it("length-prefixes each packet and turns stored b<base64> frames into b4<base64>", () => {
    expect(encodePayloadV3(["3", "40/chat,", "bAQID"])).toBe("1:38:40/chat,6:b4AQID");
  });

  it("counts UTF-16 code units as engine.io-parser 2.x does, so the official parser reads it back", () => {
    const payload = encodePayloadV3(['42["m","é😀"]', "bAAE=", "6"]);
    const decoded = officialDecode(payload);
    expect(decoded.map((p) => p.type)).toEqual(["message", "message", "noop"]);
    expect(decoded[0].data).toBe('2["m","é😀"]');
    expect([...(decoded[1].data as Uint8Array)]).toEqual([0, 1]);
  });
});

describe("decodePayloadV3", () => {
  it("reads what the official v3 parser writes for a b64 client (text and base64 binary)", () => {
    const payload = officialEncode(
      [
        { type: "ping" },
        { type: "message", data: '51-["bin",{"_placeholder":true,"num":0}]' },
        { type: "message", data: Buffer.from([1, 2, 3]) },
      ],
      false,
    ) as string;
    const packets = decodePayloadV3(payload);
    expect(packets?.map((p) => p.type)).toEqual(["ping", "message", "message"]);
    expect(packets?.[1].data).toBe('51-["bin",{"_placeholder":true,"num":0}]');
    expect(binary(packets?.[2])).toEqual([1, 2, 3]);
  });

  it("refuses malformed payloads", () => {
    for (const body of ["", "4", "x:4hi", "4:4hi", "2:4", "0:", "1:7", "3:b5AQ", "4:b4!!", "99999999999:4"]) {
      expect(decodePayloadV3(body), body).toBeNull();
    }
  });
});

describe("decodeBinaryPayloadV3", () => {
  it("reads the official parser's binary payload (an XHR2 client's POST)", () => {
    const payload = officialEncode(
      [
        { type: "message", data: '2["é"]' },
        { type: "message", data: Buffer.from([9, 8]) },
      ],
      true,
    ) as Uint8Array;
    const packets = decodeBinaryPayloadV3(new Uint8Array(payload));
    expect(packets?.[0]).toEqual({ type: "message", data: '2["é"]' });
    expect(binary(packets?.[1])).toEqual([9, 8]);
  });

  it("refuses malformed binary payloads", () => {
    for (const body of [[], [2, 1, 255, 52], [0, 1], [0, 12, 255, 52], [0, 5, 255, 52], [1, 1, 255, 3]]) {
      expect(decodeBinaryPayloadV3(new Uint8Array(body)), JSON.stringify(body)).toBeNull();
    }
  });
});

describe("WebSocket frames", () => {
  it("prefixes binary messages with their type byte, as the official parser expects", () => {
    const frame = toWebSocketFrameV3(bytes(7, 7)) as ArrayBuffer;
    expect([...new Uint8Array(frame)]).toEqual([4, 7, 7]);
    const packet = official.decodePacket(Buffer.from(frame));
    expect(packet.type).toBe("message");
    expect([...(packet.data as Uint8Array)]).toEqual([7, 7]);
    expect(toWebSocketFrameV3("42[]")).toBe("42[]");
  });

  it("decodes the official parser's frames and refuses other binary types", () => {
    let encoded: string | Uint8Array = "";
    official.encodePacket({ type: "message", data: Buffer.from([5]) }, true, (data) => {
      encoded = data;
    });
    const raw = encoded as unknown as Uint8Array;
    expect(binary(decodeWebSocketFrameV3(new Uint8Array(raw).buffer as ArrayBuffer) ?? undefined)).toEqual([5]);
    expect(decodeWebSocketFrameV3("2")).toEqual({ type: "ping", data: "" });
    expect(decodeWebSocketFrameV3(bytes(2, 1))).toBeNull();
    expect(decodeWebSocketFrameV3(bytes())).toBeNull();
  });
});
