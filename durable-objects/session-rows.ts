/** A ConnectionHost's `sessions` row (host-store.ts): its shape, a new one, and its INSERT. */
import type { CountingSql } from "./billed-work";
import type { TransportName } from "./config";
import type { HandshakeRecord } from "./engine/types";

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

export function newSessionRow(
  sid: string,
  transport: TransportName,
  now: number,
  connectDeadline: number,
  handshake: HandshakeRecord,
): SessionRow {
  return {
    sid,
    transport,
    upgrading: 0,
    closing: 0,
    created_at: now,
    connect_deadline: connectDeadline,
    last_pong_at: now,
    handshake: JSON.stringify(handshake),
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
