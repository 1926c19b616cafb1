/** Socket.IO v5 packets ⇄ Engine.IO `message` frames, through the official socket.io-parser. */
import { Decoder, Encoder, PacketType, type Packet } from "socket.io-parser";
import { encodeText, type WireFrame } from "./engine-codec";
import { assertJsonDepth, MAX_JSON_DEPTH } from "./json-limits";

export { PacketType, type Packet };

const encoder = new Encoder();

/** Encodes a packet into Engine.IO message frames: "4<text>" then one frame per binary attachment. */
export function encodePacket(packet: Packet): WireFrame[] {
  return encoder.encode(packet).map((part: string | ArrayBuffer | ArrayBufferView) => {
    if (typeof part === "string") return encodeText("message", part);
    if (part instanceof ArrayBuffer) return part;
    const view = new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
    return view.slice().buffer;
  });
}

/**
 * A CONNECT reply (`{ sid, pid? }`), as `encodePacket` gives it: "4" "0", the namespace and a
 * comma unless "/", the JSON. Sent on every connect: no scan for binary data (there is none).
 */
export function encodeConnectReply(nsp: string, data: { sid: string; pid?: string }): WireFrame[] {
  return [encodeText("message", `${PacketType.CONNECT}${nsp === "/" ? "" : `${nsp},`}${JSON.stringify(data)}`)];
}

/**
 * Refuses text packets nested deeper than MAX_JSON_DEPTH before socket.io-parser parses them:
 * the parsed value would reach recursive code (hasBinary, JSON.stringify of socket.data, the
 * app's handlers) that a 20k-deep array overflows.
 */
class DepthLimitedDecoder extends Decoder {
  override add(obj: unknown): void {
    if (typeof obj === "string") assertJsonDepth(obj, MAX_JSON_DEPTH);
    super.add(obj);
  }
}

/** A Socket.IO decoder for one Engine.IO session; it throws on any malformed or too deep packet. */
export function createDecoder(onPacket: (packet: Packet) => void): Decoder {
  const decoder = new DepthLimitedDecoder({ maxAttachments: 10 });
  decoder.on("decoded", onPacket);
  return decoder;
}

export const RESERVED_EVENTS = new Set(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]);
