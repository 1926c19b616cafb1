/** Types shared by the handler API, the ConnectionHost and the fan-out across hosts. */
import type { WireFrame } from "../../protocol/engine-codec";
import type { CloseReason, HandshakeRecord } from "../engine/types";

/** Which sockets of a namespace an operation applies to (Socket.IO's BroadcastOptions). */
export interface Target {
  nsp: string;
  /** Any of these rooms (a socket id is a room); empty means every socket of the namespace. */
  rooms: string[];
  /** None of these rooms or socket ids. */
  except: string[];
}

/** An operation every host with matching sockets applies to its own sockets. */
export type HostOp =
  | { kind: "emit"; target: Target; frames: WireFrame[]; volatile?: boolean }
  | { kind: "join"; target: Target; rooms: string[] }
  | { kind: "leave"; target: Target; rooms: string[] }
  | { kind: "disconnect"; target: Target; close: boolean };

/** Socket.IO's `socket.handshake`: the Engine.IO handshake the host stored, plus the namespace's `auth`. */
export interface Handshake extends HandshakeRecord {
  auth: Record<string, unknown>;
}

/** Socket.IO's disconnect reasons: the session's (engine) ones plus a client leaving a namespace. */
export type DisconnectReason = CloseReason | "client namespace disconnect";

/** What a Socket or Namespace needs from the ConnectionHost that runs it. */
export interface HostRuntime {
  readonly hostName: string;
  /** Sends already-encoded Socket.IO frames to one Engine.IO session. */
  /** `volatile` frames are dropped when the session's transport is not writable. */
  sendFrames(sid: string, frames: WireFrame[], volatile?: boolean): void;
  /** MAX_PENDING_ACKS: server→client acknowledgements a socket may await at once. */
  readonly maxPendingAcks: number;
  transportOf(sid: string): string;
  join(socketId: string, rooms: string[]): Promise<void>;
  leave(socketId: string, rooms: string[]): Promise<void>;
  /** Applies an operation to matching sockets on every host, this one included. */
  fanout(op: HostOp): Promise<void>;
  disconnectSocket(socketId: string, reason: DisconnectReason, notifyClient: boolean): void;
  closeSession(sid: string, reason: DisconnectReason): void;
  persistSocketData(socketId: string, data: unknown): void;
  /** Calls `onTimeout` once `deadline` passes (driven by the host's alarm, not setTimeout). */
  scheduleDeadline(deadline: number, onTimeout: () => void): () => void;
}
