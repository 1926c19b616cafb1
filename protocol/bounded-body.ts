/**
 * Reads a request or response body while it streams, never holding more than `limit` bytes:
 * a declared Content-Length above the limit fails before anything is read, and a body without
 * one (chunked) is cancelled as soon as the running total passes the limit. Pure: it imports
 * nothing from the rest of edgeio.
 */

/** The body was larger than the limit; nothing past the limit was buffered. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the body exceeds ${limit} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/** What is read: a Request or a Response (anything with headers and a body stream). */
export interface BodySource {
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array> | null;
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`invalid body limit ${limit}`);
}

/** Content-Length when it is present and well-formed, else null (then only the stream counts). */
export function declaredLength(headers: Headers): number | null {
  const raw = headers.get("content-length");
  if (raw === null || !/^\s*\d+\s*$/.test(raw)) return null;
  return Number(raw);
}

async function discard(body: ReadableStream<Uint8Array> | null): Promise<void> {
  // Tell the sender we stop reading; a failure to cancel changes nothing for the caller.
  await body?.cancel().catch(() => undefined);
}

/** The body's bytes, or BodyTooLargeError once more than `limit` bytes are declared or arrive. */
export async function readBoundedBytes(source: BodySource, limit: number): Promise<Uint8Array> {
  checkLimit(limit);
  const declared = declaredLength(source.headers);
  if (declared !== null && declared > limit) {
    await discard(source.body);
    throw new BodyTooLargeError(limit);
  }
  if (!source.body) return new Uint8Array(0);
  const reader = source.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      chunks.length = 0;
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** The body as UTF-8 text (invalid sequences replaced, as `Request.text()` does), bounded in bytes. */
export async function readBoundedText(source: BodySource, limit: number): Promise<string> {
  return new TextDecoder().decode(await readBoundedBytes(source, limit));
}
