/**
 * How a host's sessions frame Engine.IO packets on the wire: v4 (engine-codec.ts) or v3
 * (eio3-codec.ts). A host serves one version only — v3 sessions have their own pool (ids.ts
 * hostName) — so the framing follows from the host's name. Everything above the framing (the
 * outbox, room broadcasts, Socket.IO) is the same for both.
 */
import {
  decodePayloadV3,
  decodeBinaryPayloadV3,
  decodeWebSocketFrameV3,
  encodePayloadV3,
  toWebSocketFrameV3,
} from "../../protocol/eio3-codec";
import {
  decodePayload,
  decodeTextPacket,
  encodePayload,
  encodeText,
  type EnginePacket,
  pollingFrameToWebSocket,
  type WireFrame,
} from "../../protocol/engine-codec";
import { isEio3Host } from "../../protocol/ids";

export interface Framing {
  readonly version: 3 | 4;
  /** Stored polling frames (v4 form: text or "b" + base64) as one GET response body. */
  encodePayload(frames: string[]): string;
  /** A text POST body; null when malformed. */
  decodePayload(body: string): EnginePacket[] | null;
  /** An `application/octet-stream` POST body (v3 XHR2 clients only); null when malformed or not allowed. */
  decodeBinaryPayload(bytes: Uint8Array): EnginePacket[] | null;
  /** An outgoing frame as sent on a WebSocket. */
  toWebSocket(frame: WireFrame): WireFrame;
  /** An incoming WebSocket frame; null when malformed. */
  decodeWebSocket(message: string | ArrayBuffer): EnginePacket | null;
}

export const FRAMING_V4: Framing = {
  version: 4,
  encodePayload,
  decodePayload,
  decodeBinaryPayload: () => null,
  toWebSocket: (frame) => frame,
  decodeWebSocket: (message) => (typeof message === "string" ? decodeTextPacket(message) : { type: "message", data: message }),
};

export const FRAMING_V3: Framing = {
  version: 3,
  encodePayload: encodePayloadV3,
  decodePayload: decodePayloadV3,
  decodeBinaryPayload: decodeBinaryPayloadV3,
  toWebSocket: toWebSocketFrameV3,
  decodeWebSocket: decodeWebSocketFrameV3,
};

export function framingOf(hostName: string): Framing {
  return isEio3Host(hostName) ? FRAMING_V3 : FRAMING_V4;
}

/** A stored polling frame as a WebSocket frame of this framing (an upgrade flushes the outbox). */
export function storedFrameToWebSocket(framing: Framing, frame: string): WireFrame {
  return framing.toWebSocket(pollingFrameToWebSocket(frame));
}

/** The answer to a held GET that ends without frames (superseded, client gone). */
export function noopPayload(hostName: string): string {
  return framingOf(hostName).encodePayload([encodeText("noop")]);
}

/** The WebSocket auto-response of a host: v4 answers the client's pong, v3 the client's ping. */
export function autoResponseOf(hostName: string): { request: string; response: string } {
  return isEio3Host(hostName) ? { request: "2", response: "3" } : { request: "3", response: "6" };
}

/**
 * The auto-response pair a host installs. PONG_AUTO_RESPONSE=false clears the v4 pair: pongs then
 * reach webSocketMessage like any packet (no "6" after them, a wake each). A v3 host always keeps
 * its pair: v3 clients' pings need an answer.
 */
export function autoResponsePairOf(hostName: string, pongAutoResponse: boolean): WebSocketRequestResponsePair | undefined {
  const { request, response } = autoResponseOf(hostName);
  return pongAutoResponse || isEio3Host(hostName) ? new WebSocketRequestResponsePair(request, response) : undefined;
}
