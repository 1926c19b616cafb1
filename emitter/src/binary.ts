/**
 * Binary arguments (Uint8Array, Buffer, ArrayBuffer, any typed array) are sent as
 * `{"_binary": "<base64>"}`; edgeio turns them back into bytes, so clients receive binary.
 */
function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export function encodeArgs(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return { _binary: toBase64(new Uint8Array(value)) };
  if (ArrayBuffer.isView(value)) return { _binary: toBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  if (Array.isArray(value)) return value.map(encodeArgs);
  if (value !== null && typeof value === "object") {
    // Views are handled above (Buffer#toJSON would lose the bytes); Date and friends keep toJSON.
    const toJSON = (value as { toJSON?: () => unknown }).toJSON;
    if (typeof toJSON === "function") return encodeArgs(toJSON.call(value));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = encodeArgs(item);
    return out;
  }
  return value;
}
