/**
 * Binary arguments travel in JSON as `{"_binary": "<base64>"}` (standard base64, padding
 * optional). They are turned into Uint8Array before encoding, so clients receive a real
 * binary attachment (ArrayBuffer in browsers, Buffer in Node), as with Socket.IO.
 */
import { base64ToBytes, bytesToBase64, isBase64 } from "./base64";

export const BINARY_MARKER = "_binary";

export class BinaryMarkerError extends Error {
  constructor(readonly path: (string | number)[]) {
    super(`invalid base64 in ${BINARY_MARKER} marker`);
  }
}

function isMarker(value: unknown): value is { _binary: unknown } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && BINARY_MARKER in value;
}

function decodeBase64(text: string, path: (string | number)[]): Uint8Array {
  if (!isBase64(text)) throw new BinaryMarkerError(path);
  return base64ToBytes(text);
}

/** Replaces every marker (at any depth) with its bytes; throws BinaryMarkerError on bad base64. */
export function decodeBinaryMarkers(value: unknown, path: (string | number)[] = []): unknown {
  if (isMarker(value)) {
    if (typeof value._binary !== "string") throw new BinaryMarkerError([...path, BINARY_MARKER]);
    return decodeBase64(value._binary, [...path, BINARY_MARKER]);
  }
  if (Array.isArray(value)) return value.map((item, i) => decodeBinaryMarkers(item, [...path, i]));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, decodeBinaryMarkers(item, [...path, key])]));
  }
  return value;
}

/** The reverse, for JSON bodies edgeio sends (webhook payloads of client events). */
export function encodeBinaryMarkers(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return encodeBinaryMarkers(new Uint8Array(value));
  if (ArrayBuffer.isView(value)) {
    return { [BINARY_MARKER]: bytesToBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  }
  if (Array.isArray(value)) return value.map(encodeBinaryMarkers);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, encodeBinaryMarkers(item)]));
  }
  return value;
}
