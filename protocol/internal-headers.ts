/**
 * Headers the Worker adds when it forwards a request to a ConnectionHost. They are internal:
 * the edge removes any a client sends (`stripInternalHeaders`) before adding its own.
 */
export const HOST_HEADER = "x-edgeio-host";
export const ADDRESS_HEADER = "x-edgeio-address";
/**
 * Marks a long-polling GET that the Worker holds open on behalf of the client. The host
 * answers it over a hibernatable WebSocket instead of a pending HTTP response, so a
 * waiting poll neither pins the object in memory nor blocks its eviction.
 */
export const POLL_CHANNEL_HEADER = "x-edgeio-poll-channel";

const INTERNAL_PREFIX = "x-edgeio-";

/** A copy of `headers` without any internal header. */
export function stripInternalHeaders(headers: Headers): Headers {
  // One native copy, then deletes (usually none): cheaper than appending every header from JS.
  const clean = new Headers(headers);
  for (const key of headers.keys()) {
    // The iterator yields lower-cased names.
    if (key.startsWith(INTERNAL_PREFIX)) clean.delete(key);
  }
  return clean;
}
