/**
 * Binary arguments travel in JSON as `{"_binary": "<base64>"}` (standard base64, padding
 * optional). They are turned into Uint8Array before encoding, so clients receive a real
 * binary attachment (ArrayBuffer in browsers, Buffer in Node), as with Socket.IO.
 */
export const BINARY_MARKER = "_binary";

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class BinaryMarkerError extends Error {
  constructor(readonly path: (string | number)[]) {
    super(`invalid base64 in ${BINARY_MARKER} marker`);
  }
}

function isMarker(value: unknown): value is { _binary: unknown } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && BINARY_MARKER in value;
}

function decodeBase64(text: string, path: (string | number)[]): Uint8Array {
  if (!BASE64.test(text) || text.replace(/=+$/, "").length % 4 === 1) throw new BinaryMarkerError(path);
  const bytes = atob(text);
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes.charCodeAt(i);
  return out;
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
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { [BINARY_MARKER]: btoa(text) };
  }
  if (Array.isArray(value)) return value.map(encodeBinaryMarkers);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, encodeBinaryMarkers(item)]));
  }
  return value;
}
