/**
 * Base64 and base64url without Node's Buffer (Workers have none): engine.io's `b` packets,
 * `_binary` markers in JSON bodies, and the parts of sids and socket ids.
 */
const CHUNK = 0x8000; // String.fromCharCode's argument count stays well below engine limits

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(binary);
}

/** Throws on text that is not base64 (atob's DOMException). */
export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Standard base64 with optional padding, and a length that can be decoded. */
export function isBase64(text: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(text) && text.replace(/=+$/, "").length % 4 !== 1;
}

const URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Encoded directly (no btoa and three replacements): sids and socket ids are minted on every connect. */
export function base64url(bytes: Uint8Array): string {
  const a = URL_ALPHABET;
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += a[n >> 18] + a[(n >> 12) & 63] + a[(n >> 6) & 63] + a[n & 63];
  }
  if (i < bytes.length) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8);
    out += a[n >> 18] + a[(n >> 12) & 63] + (i + 1 < bytes.length ? a[(n >> 6) & 63] : "");
  }
  return out;
}

export function fromBase64url(text: string): Uint8Array {
  return base64ToBytes(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
}
