/**
 * Headers the Worker adds when it forwards a request to a ConnectionHost. They are internal:
 * the edge removes any a client sends (`stripInternalHeaders`) before adding its own.
 */
export const HOST_HEADER = "x-edgeio-host";
export const ADDRESS_HEADER = "x-edgeio-address";
/**
 * Marks a long-polling GET that the Worker holds open on behalf of the client. The host
 * answers it over a hibernatable WebSocket instead of a pending HTTP response, so a
 * waiting poll neither pins the object in memory nor blocks its eviction. Its value is the
 * session's sid, as the Worker verified it (the host reads no URL for a held GET).
 */
export const POLL_CHANNEL_HEADER = "x-edgeio-poll-channel";

export const INTERNAL_PREFIX = "x-edgeio-";

/**
 * Whether a client's request carries one of the internal headers a host reads. Without any (the
 * usual case) the edge forwards the client's request as it is (worker/engine-route.ts); the host
 * drops any other `x-edgeio-*` header from what it records of the handshake.
 */
export function hasInternalHeaders(headers: Headers): boolean {
  return headers.has(HOST_HEADER) || headers.has(ADDRESS_HEADER) || headers.has(POLL_CHANNEL_HEADER);
}

/** A copy of `headers` without any internal header (copied whole, then the rare internal ones deleted: one call per request, not one per header). */
export function stripInternalHeaders(headers: Headers): Headers {
  const clean = new Headers(headers);
  // Header names are lower case in a Headers object.
  const internal = [...clean.keys()].filter((key) => key.startsWith(INTERNAL_PREFIX));
  for (const key of internal) clean.delete(key);
  return clean;
}
