/** HMAC-SHA256 with WebCrypto, keys imported once per secret (sids, socket ids, webhook signatures). */
const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function keyFor(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

/** Keys once imported (the promise's value), so a signature after the first needs no await for its key. */
const readyKeys = new Map<string, CryptoKey>();

/** Signatures computed in this isolate (memory only, for the work-count tests: one HMAC per connect). */
export const hmacCounts = { signatures: 0 };

/** HMAC-SHA256 of `message`: one await (the signature), none for the key once it is imported. */
export function hmacBuffer(secret: string, message: string): Promise<ArrayBuffer> {
  hmacCounts.signatures += 1;
  const key = readyKeys.get(secret);
  if (key) return crypto.subtle.sign("HMAC", key, encoder.encode(message));
  return keyFor(secret).then((imported) => {
    readyKeys.set(secret, imported);
    return crypto.subtle.sign("HMAC", imported, encoder.encode(message));
  });
}

export async function hmacBytes(secret: string, message: string): Promise<Uint8Array> {
  return new Uint8Array(await hmacBuffer(secret, message));
}

export async function hmacHex(secret: string, message: string): Promise<string> {
  return [...(await hmacBytes(secret, message))].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Compares two strings in time independent of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
