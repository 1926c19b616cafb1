import { describe, expect, it } from "vitest";
import { createDecoder, type Packet } from "../../protocol/socketio-codec";
import { SessionDecoders } from "./session-decoders";

/** What socket.io-parser itself makes of one text packet. */
function official(text: string): Packet[] {
  const packets: Packet[] = [];
  createDecoder((packet) => packets.push(packet)).add(text);
  return packets;
}

describe("SessionDecoders", () => {
  it("decodes a bare CONNECT to / (its fast path) and other packets exactly as socket.io-parser does", () => {
    const seen: Array<[string, Packet]> = [];
    const decoders = new SessionDecoders((sid, packet) => seen.push([sid, packet]));
    for (const text of ["0", "0{}", '0{"token":"x"}', "0/chat,", '2["echo",1]', '21["echo"]']) {
      seen.length = 0;
      decoders.add("s1", text);
      expect(seen).toEqual(official(text).map((packet) => ["s1", packet]));
    }
  });

  it("a bare CONNECT while a binary packet is being reassembled is refused, as socket.io-parser refuses it", () => {
    const decoders = new SessionDecoders(() => undefined);
    decoders.add("s1", '51-["file",{"_placeholder":true,"num":0}]');
    expect(() => decoders.add("s1", "0")).toThrow();
  });
});
