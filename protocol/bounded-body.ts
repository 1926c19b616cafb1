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
  const blocks = await readBlocks(source.body, limit);
  if (blocks.length === 1) return blocks[0];
  const out = new Uint8Array(blocks.reduce((sum, block) => sum + block.byteLength, 0));
  let offset = 0;
  for (const block of blocks) {
    out.set(block, offset);
    offset += block.byteLength;
  }
  return out;
}

/** Bytes per block a byte stream is read into. */
const BLOCK = 64 * 1024;

/**
 * The body as a list of chunks. A byte stream (the runtime's request and response bodies) is
 * read with a BYOB reader into blocks we allocate, so nothing but the blocks is allocated per
 * read: freed per-read chunks would only be reclaimed at the next GC and count until then.
 */
async function readBlocks(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array[]> {
  let byob: ReadableStreamBYOBReader;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    return readChunks(body.getReader(), limit);
  }
  const blocks: Uint8Array[] = [];
  let total = 0;
  let block = new Uint8Array(Math.min(BLOCK, limit + 1));
  let used = 0;
  for (;;) {
    const { done, value } = await byob.read(new Uint8Array(block.buffer, used, block.byteLength - used));
    if (value) {
      block = new Uint8Array(value.buffer); // the read transferred the block's buffer
      used += value.byteLength;
      total += value.byteLength;
    }
    if (total > limit) {
      await byob.cancel().catch(() => undefined);
      throw new BodyTooLargeError(limit);
    }
    if (done) break;
    if (used === block.byteLength) {
      blocks.push(block);
      block = new Uint8Array(Math.min(BLOCK, limit + 1 - total));
      used = 0;
    }
  }
  if (used > 0) blocks.push(block.subarray(0, used));
  return blocks;
}

/** The same for any other stream, keeping the chunks it hands out. */
async function readChunks(reader: ReadableStreamDefaultReader<Uint8Array>, limit: number): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
}

/** The body as UTF-8 text (invalid sequences replaced, as `Request.text()` does), bounded in bytes. */
export async function readBoundedText(source: BodySource, limit: number): Promise<string> {
  return new TextDecoder().decode(await readBoundedBytes(source, limit));
}
