/**
 * Engine.IO's HTTP error replies, byte for byte as the reference server sends them
 * (`{"code":N,"message":"..."}` with the same status codes).
 */
export const EngineError = {
  UNKNOWN_TRANSPORT: { code: 0, message: "Transport unknown", status: 400 },
  UNKNOWN_SID: { code: 1, message: "Session ID unknown", status: 400 },
  BAD_HANDSHAKE_METHOD: { code: 2, message: "Bad handshake method", status: 400 },
  BAD_REQUEST: { code: 3, message: "Bad request", status: 400 },
  FORBIDDEN: { code: 4, message: "Forbidden", status: 403 },
  UNSUPPORTED_PROTOCOL_VERSION: { code: 5, message: "Unsupported protocol version", status: 400 },
} as const;

export type EngineErrorKind = (typeof EngineError)[keyof typeof EngineError];

export function engineErrorResponse(error: EngineErrorKind, headers?: HeadersInit): Response {
  const response = new Response(JSON.stringify({ code: error.code, message: error.message }), {
    status: error.status,
    headers,
  });
  response.headers.set("Content-Type", "application/json");
  return response;
}
