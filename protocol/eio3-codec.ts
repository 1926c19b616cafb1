/**
 * Engine.IO v3 framing (engine.io-parser 2.x, what socket.io-client 2.x speaks), beside the v4
 * framing of engine-codec.ts. Packets are the same; what differs is how they travel:
 *
 *   long-polling payload   v3: `<length>:<packet>` repeated (length in UTF-16 code units, as
 *                          JavaScript counts), binary as `b4<base64>`;  v4: packets joined by \x1e,
 *                          binary as `b<base64>`
 *   binary POST body       v3 only (XHR2 clients without `b64=1`): per packet a 0 (text) or 1
 *                          (binary) byte, the length as decimal digit bytes, 255, then the bytes
 *   WebSocket binary frame v3: a leading packet-type byte (4 = message);  v4: the bare bytes
 *
 * Outgoing polling frames are stored in v4 form (text, or "b" + base64) whatever the version,
 * so a room broadcast encoded once reaches v3 and v4 sessions alike; they are re-framed here.
 * The server always answers v3 polls with text (base64 binary): engine.io-client 3.x reads text
 * whether or not it sent `b64=1` (it only switches to binary on `application/octet-stream`).
 */
import { base64ToBytes, isBase64 } from "./base64";
import { decodeTextPacket, type EnginePacket, type WireFrame } from "./engine-codec";

const MESSAGE_TYPE = 4;

/** Stored polling frames (v4 form) as one v3 text payload. */
export function encodePayloadV3(frames: string[]): string {
  let payload = "";
  for (const frame of frames) {
    const packet = frame.startsWith("b") ? `b${MESSAGE_TYPE}${frame.slice(1)}` : frame;
    payload += `${packet.length}:${packet}`;
  }
  return payload;
}

/** One v3 text packet: "b4<base64>" is a binary message, anything else as in v4. */
function decodePacketV3(text: string): EnginePacket | null {
  if (!text.startsWith("b")) return decodeTextPacket(text);
  if (text.charAt(1) !== String(MESSAGE_TYPE)) return null;
  const base64 = text.slice(2);
  if (!isBase64(base64)) return null;
  try {
    return { type: "message", data: base64ToBytes(base64).buffer as ArrayBuffer };
  } catch {
    return null;
  }
}

/** A v3 text payload (`<length>:<packet>`…); null when anything in it is malformed. */
export function decodePayloadV3(body: string): EnginePacket[] | null {
  const packets: EnginePacket[] = [];
  let i = 0;
  while (i < body.length) {
    const colon = body.indexOf(":", i);
    const digits = colon === -1 ? "" : body.slice(i, colon);
    if (!/^\d{1,10}$/.test(digits)) return null;
    const length = Number(digits);
    const text = body.slice(colon + 1, colon + 1 + length);
    if (length === 0 || text.length !== length) return null;
    const packet = decodePacketV3(text);
    if (!packet) return null;
    packets.push(packet);
    i = colon + 1 + length;
  }
  return packets.length > 0 ? packets : null;
}

/** A v3 binary payload (an XHR2 client's POST with `application/octet-stream`); null when malformed. */
export function decodeBinaryPayloadV3(bytes: Uint8Array): EnginePacket[] | null {
  const packets: EnginePacket[] = [];
  let i = 0;
  while (i < bytes.length) {
    const kind = bytes[i++];
    if (kind !== 0 && kind !== 1) return null;
    let digits = "";
    while (i < bytes.length && bytes[i] !== 255) {
      if (bytes[i] > 9 || digits.length >= 10) return null;
      digits += String(bytes[i++]);
    }
    if (digits === "" || i >= bytes.length) return null;
    i++; // the 255 separator
    const length = Number(digits);
    if (length === 0 || i + length > bytes.length) return null;
    const body = bytes.subarray(i, i + length);
    i += length;
    const packet = kind === 0 ? decodeTextPacket(new TextDecoder().decode(body)) : binaryPacket(body);
    if (!packet) return null;
    packets.push(packet);
  }
  return packets.length > 0 ? packets : null;
}

function binaryPacket(body: Uint8Array): EnginePacket | null {
  if (body[0] !== MESSAGE_TYPE) return null;
  return { type: "message", data: body.slice(1).buffer as ArrayBuffer };
}

/** An outgoing WebSocket frame in v3: binary messages get their type byte in front. */
export function toWebSocketFrameV3(frame: WireFrame): WireFrame {
  if (typeof frame === "string") return frame;
  const bytes = new Uint8Array(frame.byteLength + 1);
  bytes[0] = MESSAGE_TYPE;
  bytes.set(new Uint8Array(frame), 1);
  return bytes.buffer;
}

/** An incoming v3 WebSocket frame; null when it is not a valid packet. */
export function decodeWebSocketFrameV3(message: string | ArrayBuffer): EnginePacket | null {
  if (typeof message === "string") return decodeTextPacket(message);
  const bytes = new Uint8Array(message);
  return bytes.length > 0 ? binaryPacket(bytes) : null;
}
