/**
 * The Socket.IO v4 protocol that socket.io-client 2.x speaks (over Engine.IO v3), where it differs
 * from v5. Packets are encoded by the same official socket.io-parser (the v4 format is the v5
 * format without CONNECT payloads); what differs is the meaning, as Socket.IO 4's server has it
 * with `allowEIO3`:
 *
 *   - the default namespace is connected without a CONNECT from the client;
 *   - a CONNECT carries no payload: its query is part of the namespace (`0/chat?token=abc,`), and
 *     that query is the socket's `auth` (for "/": the Engine.IO handshake query);
 *   - the server's CONNECT carries no `{sid}`;
 *   - a middleware error is sent as `err.data` when set, else as the message (`44/chat,"nope"`).
 */
import { PacketType, type Packet } from "socket.io-parser";

/** Handshake query parameters that are Engine.IO's, not the app's. */
const ENGINE_PARAMS = new Set(["EIO", "transport", "t", "b64", "sid", "j"]);

const MAX_QUERY_PARAMS = 64;

/** Splits a v4 CONNECT namespace (`/chat?token=abc`) into the namespace and its query. */
export function parseConnectNamespace(nsp: string): { nsp: string; query: Record<string, string> } {
  const mark = nsp.indexOf("?");
  if (mark === -1) return { nsp, query: {} };
  return { nsp: nsp.slice(0, mark), query: queryObject(new URLSearchParams(nsp.slice(mark + 1))) };
}

/** What a 2.x client's sockets see as `handshake.auth` on "/": the handshake query, minus Engine.IO's own. */
export function authFromHandshakeQuery(query: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(query).filter(([key]) => !ENGINE_PARAMS.has(key)));
}

function queryObject(params: URLSearchParams): Record<string, string> {
  const query: Record<string, string> = {};
  let count = 0;
  for (const [key, value] of params) {
    if (++count > MAX_QUERY_PARAMS) break;
    query[key] = value;
  }
  return query;
}

/** The server's CONNECT for a namespace: no payload in v4. */
export function connectPacketV4(nsp: string): Packet {
  return { type: PacketType.CONNECT, nsp };
}

/** The payload of a middleware's connect error, as Socket.IO sends it to a v4-protocol client. */
export function connectErrorDataV4(error: { message: string; data?: unknown }): unknown {
  return error.data !== undefined && error.data !== null ? error.data : error.message;
}
