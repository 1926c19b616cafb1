import { Decoder, type Packet } from "socket.io-parser";
import { describe, expect, it } from "vitest";
import { encodePacket, PacketType } from "./socketio-codec";
import { takesOffset, withOffset } from "./socketio-offset";

/** What socket.io-parser (the client's) decodes from an Engine.IO message frame. */
function decoded(frame: string): unknown[] {
  let data: unknown[] = [];
  const decoder = new Decoder();
  decoder.on("decoded", (packet: Packet) => {
    data = packet.data as unknown[];
  });
  decoder.add(frame.slice(1));
  return data;
}

describe("withOffset", () => {
  it("appends the offset as the last argument of an EVENT, in / and in a namespace", () => {
    for (const nsp of ["/", "/chat"]) {
      const frames = encodePacket({ type: PacketType.EVENT, nsp, data: ["ev", { a: [1, "]"] }, "x"] });
      const [marked] = withOffset(frames, "off-1") as [string];
      expect(decoded(marked)).toEqual(["ev", { a: [1, "]"] }, "x", "off-1"]);
      expect(takesOffset(frames)).toBe(true);
    }
  });

  it("leaves acknowledged, binary and non-EVENT packets alone", () => {
    const acked = encodePacket({ type: PacketType.EVENT, nsp: "/", id: 7, data: ["ev", 1] });
    const acked2 = encodePacket({ type: PacketType.EVENT, nsp: "/chat", id: 12, data: ["ev"] });
    const binary = encodePacket({ type: PacketType.EVENT, nsp: "/", data: ["ev", new Uint8Array([1, 2])] });
    const ack = encodePacket({ type: PacketType.ACK, nsp: "/", id: 3, data: [1] });
    const connect = encodePacket({ type: PacketType.CONNECT, nsp: "/", data: { sid: "x" } });
    for (const frames of [acked, acked2, binary, ack, connect]) {
      expect(withOffset(frames, "off")).toBe(frames);
      expect(takesOffset(frames)).toBe(false);
    }
  });
});
