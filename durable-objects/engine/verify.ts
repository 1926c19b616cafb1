/**
 * Every Engine.IO request rule, in the order they are checked, in the style of engine.io's
 * `Server.verify()`. The Worker applies the edge rules (no session state needed: the sid's
 * signature names its host) and the ConnectionHost the session rules. The error replies are
 * Socket.IO's, byte for byte (protocol/engine-errors.ts):
 *
 *   rule                                                      | answer
 *   ----------------------------------------------------------|------------------------------------------
 *   1. Origin not in CORS_ORIGINS                             | 403 {"code":4,"message":"Forbidden"}
 *   2. query not parseable                                    | 400 {"code":3,"message":"Bad request"}
 *   3. EIO is not 4 (nor 3 with ALLOW_EIO3)                   | 400 {"code":5,"message":"Unsupported protocol version"}
 *   4. transport missing, unknown or not in TRANSPORTS        | 400 {"code":0,"message":"Transport unknown"}
 *   handshake (no sid):
 *   5. method is not GET                                      | 400 {"code":2,"message":"Bad handshake method"}
 *   6. transport=websocket without a WebSocket upgrade        | 400 {"code":3,"message":"Bad request"}
 *   with a sid:
 *   7. sid malformed or its HMAC does not verify              | 400 {"code":1,"message":"Session ID unknown"}
 *   8. transport=websocket without a WebSocket upgrade        | 400 {"code":3,"message":"Bad request"}
 *   9. transport=polling with a method other than GET / POST  | 500 (as engine.io's polling transport)
 *   at the host:
 *  10. no such session (closed, forgotten, never existed)     | 400 {"code":1,"message":"Session ID unknown"}
 *  11. a WebSocket upgrade                                    | → the upgrade (websocket.ts)
 *  12. polling request for a session not on polling           | 400 {"code":3,"message":"Bad request"}
 *  13. GET → poll, POST → packets; anything else              | 400 {"code":3,"message":"Bad request"}
 */
import { EngineError, type EngineErrorKind } from "../../protocol/engine-errors";
import type { EdgeioConfig, TransportName } from "../config";
import type { SessionRow } from "../host-store";

/**
 * A query parameter as the edge reads it: the last one of that name (URLSearchParams decodes
 * every value to a string, so there is nothing else to check; a plain read per connect, no schema).
 */
function lastParam(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  return values.length > 0 ? values[values.length - 1] : undefined;
}

/** engine.io answers an unsupported method on a polling request with a bare 500. */
export const POLLING_METHOD_NOT_ALLOWED = { status: 500 } as const;

export interface EdgeRequest {
  method: string;
  url: URL;
  origin: string | null;
  isUpgrade: boolean;
}

export type EdgeVerdict =
  | { kind: "handshake"; transport: TransportName; eio: 3 | 4 }
  | { kind: "session"; transport: TransportName; sid: string; host: string }
  | { kind: "error"; error: EngineErrorKind | typeof POLLING_METHOD_NOT_ALLOWED };

/** Module-level, not a closure per request (the deploy bundle names every closure it makes: esbuild's keepNames). */
function fail(error: EngineErrorKind | typeof POLLING_METHOD_NOT_ALLOWED): EdgeVerdict {
  return { kind: "error", error };
}

/** Rules 1–9, at the edge. `originAllowed` and `hostOfSid` come from CORS and the sid's signature. */
export async function verifyEdgeRequest(
  request: EdgeRequest,
  config: EdgeioConfig,
  originAllowed: (origin: string) => boolean,
  hostOfSid: (sid: string) => Promise<string | null>,
): Promise<EdgeVerdict> {
  if (request.origin && !originAllowed(request.origin)) return fail(EngineError.FORBIDDEN);
  const params = request.url.searchParams;
  // No length limit on sid here: verifySid rejects long sids, so they get "Session ID unknown" like any bad sid.
  const [EIO, transport, sid] = [lastParam(params, "EIO"), lastParam(params, "transport"), lastParam(params, "sid")];
  if (EIO !== "4" && !(EIO === "3" && config.allowEio3)) return fail(EngineError.UNSUPPORTED_PROTOCOL_VERSION);
  if (!transport || !(config.transports as string[]).includes(transport)) return fail(EngineError.UNKNOWN_TRANSPORT);
  const name = transport as TransportName;

  if (!sid) {
    if (request.method !== "GET") return fail(EngineError.BAD_HANDSHAKE_METHOD);
    if (name === "websocket" && !request.isUpgrade) return fail(EngineError.BAD_REQUEST);
    return { kind: "handshake", transport: name, eio: EIO === "3" ? 3 : 4 };
  }
  const host = await hostOfSid(sid);
  if (!host) return fail(EngineError.UNKNOWN_SID);
  if (name === "websocket" && !request.isUpgrade) return fail(EngineError.BAD_REQUEST);
  if (name === "polling" && request.method !== "GET" && request.method !== "POST") return fail(POLLING_METHOD_NOT_ALLOWED);
  return { kind: "session", transport: name, sid, host };
}

export interface SessionRequest {
  session: SessionRow | null;
  transport: TransportName | null;
  method: string;
  isUpgrade: boolean;
  /** The Worker's held-poll channel (a WebSocket upgrade that is really a GET). */
  pollChannel: boolean;
}

export type SessionVerdict = { kind: "upgrade" } | { kind: "poll" } | { kind: "post" } | { kind: "error"; error: EngineErrorKind };

/** Rules 10–13, at the host that owns the session. */
export function verifySessionRequest(request: SessionRequest): SessionVerdict {
  const { session } = request;
  if (!session) return { kind: "error", error: EngineError.UNKNOWN_SID };
  if (request.isUpgrade && !request.pollChannel) return { kind: "upgrade" };
  if (request.transport !== "polling" || session.transport !== "polling") return { kind: "error", error: EngineError.BAD_REQUEST };
  if (request.method === "GET") return { kind: "poll" };
  if (request.method === "POST") return { kind: "post" };
  return { kind: "error", error: EngineError.BAD_REQUEST };
}
