/** What the Engine.IO layer shares between its modules and tells the layer above it. */

/** What a session keeps of its Engine.IO handshake request (Socket.IO's `socket.handshake`, without `auth`). */
export interface HandshakeRecord {
  headers: Record<string, string>;
  query: Record<string, string>;
  address: string;
  time: string;
  issued: number;
  url: string;
  secure: boolean;
  xdomain: boolean;
}

/** Why an Engine.IO session ended (Socket.IO's disconnect reasons that come from the transport). */
export type CloseReason =
  | "ping timeout"
  | "transport close"
  | "transport error"
  | "parse error"
  | "forced close"
  /** The server closed the session: a per-session limit was exceeded (README "Limits"). */
  | "forced server close"
  /** The app closed the whole session (`socket.disconnect(true)`, `disconnectSockets(true)`). */
  | "server namespace disconnect";

/** A WebSocket close frame. */
export interface CloseFrame {
  code: number;
  reason: string;
}

/** What the layer above (the Socket.IO client bridge) hears from the Engine.IO sessions. */
export interface EngineListener {
  /**
   * A session opened (after its handshake answer): Engine.IO v3 sessions connect "/" implicitly.
   * `record`: what its row stores as JSON, as an object (its CONNECT need not parse it again);
   * `socketId`: the id for its first socket, minted with the sid (protocol/ids.ts mintSession).
   */
  onOpen(sid: string, record: HandshakeRecord, socketId: string): void;
  /** A `message` packet's payload (a Socket.IO packet or one of its binary attachments). */
  onMessage(sid: string, data: string | ArrayBuffer): void;
  /** The session is closing (before its transport closes): its sockets go now. */
  onClose(sid: string, reason: CloseReason): void;
  /** The session is gone for good: per-session state above the engine can go too. */
  onForget(sid: string): void;
}

/** sessions.upgrading: a WebSocket is open for the session, and whether "2probe" was answered. */
export const UPGRADE_NONE = 0;
export const UPGRADE_OPENED = 1;
export const UPGRADE_PROBED = 2;

/** What every hibernatable WebSocket of a host carries in its attachment. */
export interface WebSocketAttachment {
  sid: string;
  /** An upgrade probe that has not sent "5" yet. */
  probing: boolean;
  /** The Worker's channel for one held long-polling GET (never carries client packets). */
  pollChannel?: boolean;
  /**
   * A direct WebSocket session's row before its CONNECT writes it (host-store.ts, createSession):
   * what a new instance rebuilds the session from after an eviction. Kept once the row is written.
   */
  pending?: PendingSession;
}

/** The parts of a direct WebSocket session's row its handshake sets (session-rows.ts). */
export interface PendingSession {
  createdAt: number;
  connectDeadline: number;
  /** The HandshakeRecord as JSON, as the row stores it. */
  handshake: string;
  /** Its sockets, connected but not written yet (host-store.ts, deferred sockets). */
  sockets?: PendingSocket[];
}

/** A socket row kept in its session's attachment until written (the CONNECT commits nothing). */
export interface PendingSocket {
  id: string;
  nsp: string;
  auth: string;
  data: string;
  connectedAt: number;
}

export const TEXT_PLAIN = { "Content-Type": "text/plain; charset=UTF-8" };

/** What a transport asks of the session layer (engine/sessions.ts). */
export interface SessionControl {
  /** Graceful: queued frames are still delivered, then the close. */
  close(sid: string, reason: CloseReason, frame?: CloseFrame): void;
  /** A fault: the session is forgotten at once (a held GET hears "1"). */
  fail(sid: string, reason: CloseReason, frame?: CloseFrame): void;
  closeForLimit(sid: string, limit: import("./limits").LimitName): void;
  /** Drops a session at once: storage, decoder state, every WebSocket and poll channel. */
  forget(sid: string): void;
  onPacket(sid: string, packet: import("../../protocol/engine-codec").EnginePacket): void;
}
