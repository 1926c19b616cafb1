/**
 * The auth webhook's answer cache: bounded in entries and in age, keyed by a SHA-256 digest of
 * the credential material (never the material itself), so a page reload or a second tab does
 * not cost a round trip to the backend. Only accepted users are stored; refusals and failures
 * never are (a backend that recovers, or a user who logs in, is asked again at once).
 */
export class TtlCache<V> {
  // A Map iterates in insertion order: the first key is the oldest entry.
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V): void {
    if (this.maxEntries === 0 || this.ttlMs === 0) return;
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    // The age is counted from the answer, not from the last use: a revoked session ends within the TTL.
    this.entries.set(key, { value, expires: this.now() + this.ttlMs });
  }
}

/** Hex SHA-256 of a string: the cache key of a credential (the material is never kept). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
