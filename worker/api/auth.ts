/**
 * API-key authentication: `Authorization: Bearer <key>`. Several keys may be valid at once
 * (rotation); every configured key is compared, in constant time, on every request.
 */
import type { ApiConfig } from "./config";

export type Scope = "full" | "read";

export interface Principal {
  scope: Scope;
  /** A stable, non-secret name for the key (rate-limit bucket, logs): its list and index. */
  keyId: string;
}

const encoder = new TextEncoder();

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

/**
 * Hashing first gives equal-length inputs, so the comparison leaks neither content nor
 * length; the XOR loop always visits every byte.
 */
async function sameSecret(a: ArrayBuffer, b: string): Promise<boolean> {
  const x = new Uint8Array(a);
  const y = new Uint8Array(await digest(b));
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ (y[i] ?? 0);
  return diff === 0;
}

export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header ?? "");
  return match ? match[1] : null;
}

/** The principal for a presented key, or null. Does not stop at the first match. */
export async function authenticate(config: ApiConfig, presented: string): Promise<Principal | null> {
  const hash = await digest(presented);
  let found: Principal | null = null;
  const candidates: Array<[string, Scope, string]> = [
    ...config.keys.map((key, i): [string, Scope, string] => [key, "full", `key:${i}`]),
    ...config.readKeys.map((key, i): [string, Scope, string] => [key, "read", `read:${i}`]),
  ];
  for (const [key, scope, keyId] of candidates) {
    if ((await sameSecret(hash, key)) && !found) found = { scope, keyId };
  }
  return found;
}
