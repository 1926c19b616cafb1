/** Small readings of what a ConnectionHost stored about sessions and sockets (client-bridge.ts). */
import type { HandshakeRecord } from "../engine/types";
import type { HostStore } from "../host-store";
import type { Handshake, RemoteSocketDetails } from "./types";

/** Whether a session speaks the Socket.IO v4 protocol (socket.io-client 2.x, Engine.IO v3). */
export function isV4Record(record: HandshakeRecord): boolean {
  return record.query.EIO === "3";
}

/** host_meta key of a child namespace's parent index. */
export const childKey = (nsp: string) => `child_nsp:${nsp}`;

export function authOf(auth: unknown): Record<string, unknown> {
  return auth && typeof auth === "object" && !Array.isArray(auth) ? (auth as Record<string, unknown>) : {};
}

export function handshakeOf(stored: string, auth: unknown): Handshake {
  return handshakeFrom(JSON.parse(stored) as HandshakeRecord, auth);
}

/** A socket's handshake from its session's record (parsed, or the object the handshake built). */
export function handshakeFrom(record: HandshakeRecord, auth: unknown): Handshake {
  return { ...record, auth: auth && typeof auth === "object" ? (auth as Record<string, unknown>) : {} };
}

/** What fetchSockets reports of a socket of this host, read without rebuilding it (null: none, or suspended). */
export function describeStored(store: HostStore, socketId: string, live: { data: unknown } | undefined): RemoteSocketDetails | null {
  const row = store.socket(socketId);
  const session = row && store.session(row.sid);
  if (!row || !session) return null;
  return {
    id: row.id,
    handshake: handshakeOf(session.handshake, JSON.parse(row.auth)),
    rooms: [...new Set([row.id, ...store.roomsOf(row.id)])],
    data: live?.data ?? JSON.parse(row.data),
  };
}
