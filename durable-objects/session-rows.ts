/** A ConnectionHost's `sessions` row (host-store.ts): its shape, a new one, and its INSERT. */
import type { CountingSql } from "./billed-work";
import type { TransportName } from "./config";
import type { PendingSession, PendingSocket } from "./engine/types";

export type SessionRow = {
  sid: string;
  transport: TransportName;
  upgrading: number;
  /** 0 while open; when it began closing (ms) after that. */
  closing: number;
  created_at: number;
  connect_deadline: number | null;
  last_pong_at: number;
  handshake: string;
};

export function newSessionRow(sid: string, transport: TransportName, now: number, connectDeadline: number, handshake: string): SessionRow {
  return {
    sid,
    transport,
    upgrading: 0,
    closing: 0,
    created_at: now,
    connect_deadline: connectDeadline,
    last_pong_at: now,
    handshake,
  };
}

/** Writes a row whole (a pending session's may have changed since its handshake). */
export function insertSessionRow(sql: CountingSql, row: SessionRow): void {
  sql.exec(
    "INSERT INTO sessions (sid, transport, upgrading, closing, created_at, connect_deadline, last_pong_at, handshake) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    row.sid,
    row.transport,
    row.upgrading,
    row.closing,
    row.created_at,
    row.connect_deadline,
    row.last_pong_at,
    row.handshake,
  );
}

/**
 * Serialized attachments are limited to 2,048 bytes; a pending session's handshake (headers,
 * query) must leave room for the rest. V8 stores a string with a character past U+00FF in two
 * bytes per character, so that case is counted double.
 */
export const PENDING_ATTACHMENT_BUDGET = 1500;

/** Whether a direct WebSocket session's handshake fits its attachment (else it is written at once). */
export function fitsAttachment(handshake: string): boolean {
  const bytes = /[\u0100-\uffff]/.test(handshake) ? handshake.length * 2 : handshake.length;
  return bytes <= PENDING_ATTACHMENT_BUDGET;
}

/** A string's size in an attachment, at most: V8 serializes one byte per character, or two past U+00FF. */
const serializedBytes = (text: string) => (/[\u0100-\uffff]/.test(text) ? text.length * 2 : text.length);

/** What an attachment spends on a field besides its string: the key's name and the serializer's tags (generous). */
const FIELD_BYTES = 16;

/**
 * Whether a pending session with its sockets fits its attachment (the runtime's limit is 2,048
 * bytes). Summed field by field (V8's serializer stores the strings as they are; no JSON copy of
 * the handshake with every quote escaped on each CONNECT), every field counted at its widest.
 */
export function fitsKeptBack(pending: PendingSession): boolean {
  let bytes = serializedBytes(pending.handshake) + 4 * FIELD_BYTES;
  for (const socket of pending.sockets ?? []) {
    bytes += serializedBytes(socket.id) + serializedBytes(socket.nsp) + serializedBytes(socket.auth) + serializedBytes(socket.data);
    bytes += 6 * FIELD_BYTES;
  }
  return bytes <= KEPT_BACK_ATTACHMENT_BUDGET;
}

/** Room left in an attachment for the rest (sid, flags, the serializer's tags). */
const KEPT_BACK_ATTACHMENT_BUDGET = 1900;

/** A pending session's row, rebuilt from its WebSocket's attachment after an eviction. */
export function pendingSessionRow(sid: string, pending: PendingSession): SessionRow {
  return {
    sid,
    transport: "websocket",
    upgrading: 0,
    closing: 0,
    created_at: pending.createdAt,
    connect_deadline: pending.connectDeadline,
    last_pong_at: pending.createdAt,
    handshake: pending.handshake,
  };
}

/** A session's row as its WebSocket's attachment keeps it (pendingSessionRow rebuilds it), with its kept-back sockets. */
export function pendingOf(row: SessionRow, sockets: PendingSocket[]): PendingSession {
  return { createdAt: row.created_at, connectDeadline: row.connect_deadline ?? row.created_at, handshake: row.handshake, sockets };
}
