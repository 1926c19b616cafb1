/**
 * Handshake records of the sessions this host instance opened, kept until their first CONNECT:
 * that CONNECT reads the object the handshake built (no parse of the stored JSON) and takes the
 * socket id minted with the sid (no HMAC of its own: protocol/ids.ts `mintSession`). In memory
 * only: after an eviction the CONNECT parses the session's row and mints a socket id.
 */
import type { HandshakeRecord } from "../engine/types";

export class OpenRecords {
  private readonly records = new Map<string, { record: HandshakeRecord; socketId?: string }>();

  set(sid: string, record: HandshakeRecord, socketId: string): void {
    this.records.set(sid, { record, socketId });
  }

  /** The session's handshake record: the handshake's own object, else parsed from its stored row. */
  recordOf(sid: string, stored: string): HandshakeRecord {
    return this.records.get(sid)?.record ?? (JSON.parse(stored) as HandshakeRecord);
  }

  /** The socket id minted with the sid, taken once (undefined after that, or after an eviction). */
  takeSocketId(sid: string): string | undefined {
    const open = this.records.get(sid);
    const socketId = open?.socketId;
    if (open) open.socketId = undefined;
    return socketId;
  }

  delete(sid: string): void {
    this.records.delete(sid);
  }
}
