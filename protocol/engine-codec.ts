/**
 * Engine.IO v4 framing.
 *
 * Hand-written on purpose: the official engine.io-parser picks its browser build under
 * workerd, and that build base64-encodes binary for long-polling through FileReader,
 * which Workers do not have. The format is tiny (a type digit, "b"+base64 for binary
 * on polling, packets joined by the record separator \x1e) and is pinned by byte-level tests.
 */

import { base64ToBytes, bytesToBase64, isBase64 } from "./base64";

export const PACKET_TYPES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"] as const;
export type EnginePacketType = (typeof PACKET_TYPES)[number];

export interface EnginePacket {
  type: EnginePacketType;
  data?: string | ArrayBuffer;
}

/** One frame ready for a transport: text, or raw bytes of a binary `message`. */
export type WireFrame = string | ArrayBuffer;

const SEPARATOR = "\x1e";

export function encodeText(type: EnginePacketType, data = ""): string {
  return `${PACKET_TYPES.indexOf(type)}${data}`;
}

/** Frame for a long-polling payload: binary messages as "b" + base64. */
export function toPollingFrame(frame: WireFrame): string {
  if (typeof frame === "string") return frame;
  return `b${bytesToBase64(new Uint8Array(frame))}`;
}

/** A stored polling frame back to what a WebSocket sends (after an upgrade flushes the queue). */
export function pollingFrameToWebSocket(frame: string): WireFrame {
  if (frame.startsWith("b")) return base64ToBytes(frame.slice(1)).buffer as ArrayBuffer;
  return frame;
}

export function encodePayload(frames: string[]): string {
  return frames.join(SEPARATOR);
}

/** Decodes one text packet; null when the packet is not valid Engine.IO v4. */
export function decodeTextPacket(text: string): EnginePacket | null {
  const typeIndex = text.charCodeAt(0) - 48;
  const type = PACKET_TYPES[typeIndex];
  if (text.length === 0 || type === undefined) return null;
  return { type, data: text.slice(1) };
}

/** Decodes a long-polling POST body; null when any packet in it is invalid. */
export function decodePayload(body: string): EnginePacket[] | null {
  if (body.length === 0) return null;
  const packets: EnginePacket[] = [];
  for (const part of body.split(SEPARATOR)) {
    if (part.startsWith("b")) {
      const bytes = base64ToBytesOrNull(part.slice(1));
      if (!bytes) return null;
      packets.push({ type: "message", data: bytes.buffer as ArrayBuffer });
      continue;
    }
    const packet = decodeTextPacket(part);
    if (!packet) return null;
    packets.push(packet);
  }
  return packets;
}

function base64ToBytesOrNull(text: string): Uint8Array | null {
  if (!isBase64(text)) return null;
  try {
    return base64ToBytes(text);
  } catch {
    return null;
  }
}
