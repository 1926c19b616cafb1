/**
 * Verifies edgeio webhook signatures. edgeio sends
 *   X-Edgeio-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of `${t}.${rawBody}`>
 * Pass the raw request body (before JSON parsing: re-serializing changes the bytes).
 */
export const SIGNATURE_HEADER = "x-edgeio-signature";
export const EVENT_ID_HEADER = "x-edgeio-event-id";

export interface VerifyOptions {
  /** Largest accepted age (or clock skew) of the signature, in seconds (default 300; 0 = no check). */
  toleranceSeconds?: number;
  /** The current time in ms (tests). */
  now?: number;
}

const encoder = new TextEncoder();

async function subtle(): Promise<SubtleCrypto> {
  if (globalThis.crypto?.subtle) return globalThis.crypto.subtle;
  // Node 18 without the global: load it lazily so bundlers for other runtimes ignore it.
  const specifier = "node:crypto";
  const { webcrypto } = (await import(/* @vite-ignore */ specifier)) as { webcrypto: Crypto };
  return webcrypto.subtle;
}

function hexToBytes(hex: string): Uint8Array<ArrayBuffer> | null {
  if (!/^(?:[0-9a-f]{2})+$/i.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function parseHeader(header: string): { timestamp: number; signatures: string[] } | null {
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const [key, value] = part.trim().split("=", 2);
    if (key === "t" && value && /^\d+$/.test(value)) timestamp = Number(value);
    else if (key === "v1" && value) signatures.push(value);
  }
  return timestamp === null || signatures.length === 0 ? null : { timestamp, signatures };
}

/**
 * True when `header` carries a valid signature of `body` by `secret` (or any of several
 * secrets, during a rotation) made within the tolerance. Never throws on bad input.
 */
export async function verifyWebhookSignature(
  secret: string | readonly string[],
  header: string | null | undefined,
  body: string | Uint8Array,
  options: VerifyOptions = {},
): Promise<boolean> {
  if (typeof header !== "string") return false;
  const parsed = parseHeader(header);
  if (!parsed) return false;
  const tolerance = options.toleranceSeconds ?? 300;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (tolerance > 0 && Math.abs(now - parsed.timestamp) > tolerance) return false;

  const crypto = await subtle();
  const bodyBytes = typeof body === "string" ? encoder.encode(body) : body;
  const prefix = encoder.encode(`${parsed.timestamp}.`);
  const message = new Uint8Array(prefix.length + bodyBytes.length);
  message.set(prefix);
  message.set(bodyBytes, prefix.length);

  for (const key of typeof secret === "string" ? [secret] : secret) {
    const hmacKey = await crypto.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    for (const signature of parsed.signatures) {
      const bytes = hexToBytes(signature);
      // subtle.verify compares in constant time.
      if (bytes && (await crypto.verify("HMAC", hmacKey, bytes, message))) return true;
    }
  }
  return false;
}
