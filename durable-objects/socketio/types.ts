/** Types shared by the handler API, the ConnectionHost and the fan-out across hosts. */
import type { ConflateOption } from "../../protocol/conflation";
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

/**
 * What an operation carries besides its own fields, for sockets that recovered on a host other than
 * the one their id names (docs/recovery.md, "Forwards"). `reached`: the socket ids among the
 * target's rooms whose sockets the sending host holds itself though the ids name another host
 * (they recovered there) and reached by applying the operation directly; their home does not
 * forward it to them again (durable-objects/recovery/session-recovery.ts, `forwardTargets`).
 */
export interface OpOrigin {
  reached?: string[];
  /**
   * Set when the op was sent to the hosts `hostsFor` found (cluster.ts): the host each socket id
   * among the target's rooms names was called too, and delivers the op to that socket or forwards
   * it. A host called for another reason leaves such a socket that recovered on it to that home.
   */
  viaHomes?: true;
}

/** An operation every host with matching sockets applies to its own sockets. */
export type HostOp = (
  | EmitOp
  | { kind: "join"; target: Target; rooms: string[] }
  | { kind: "leave"; target: Target; rooms: string[] }
  | { kind: "disconnect"; target: Target; close: boolean }
  /** fetchSockets: each host describes its matching sockets. */
  | { kind: "fetch"; target: Target }
  /**
   * A broadcast with acknowledgements, first phase: each host sends the event to its matching
   * sockets (each with its own ack id) and gathers their answers under `ackId` until
   * `timeoutMs`; the caller collects them with `collectAcks(ackId)` (see cluster/acks.ts).
   */
  | { kind: "emitWithAck"; target: Target; ackId: string; event: string; args: unknown[]; timeoutMs: number }
  /** serverSideEmit: the namespace's own listeners (`io.on(event, …)`) run once on each host. */
  | { kind: "serverEmit"; target: Target; event: string; args: unknown[]; ackTimeoutMs?: number }
  /**
   * Several emits in one call (POST /v1/emit/batch: one call per host, not per emit), applied
   * in order; each has its own target, so `target` is only the first one's. The reply's
   * `matchedEach` has each emit's count.
   */
  | { kind: "batch"; target: Target; ops: EmitOp[] }
) &
  OpOrigin;

/**
 * An emit, encoded once for every host. With `conflate`, each host keeps only the latest value
 * per (target, event, key) and sends at most one per interval (cluster/host-conflation.ts);
 * `event` names the stream then.
 */
export interface EmitOp extends OpOrigin {
  kind: "emit";
  target: Target;
  frames: WireFrame[];
  volatile?: boolean;
  /** One id for every host the emit reaches (cluster.ts sets it): a recovery hand-over delivers each emit once by it. */
  id?: string;
  conflate?: ConflateOption & { event: string };
}

/** What fetchSockets learns of one socket on some host (RPC-serialisable). */
export interface RemoteSocketDetails {
  id: string;
  handshake: Handshake;
  rooms: string[];
  data: unknown;
}

/**
 * A host's answer to one HostOp: how many of its sockets matched, plus what the operation
 * brings back (fetch: `sockets`; serverEmit with an ack: `responses`, at most one).
 */
export interface HostReply {
  matched: number;
  sockets?: RemoteSocketDetails[];
  responses?: unknown[];
  /** A batch: how many sockets each of its emits matched, in order. */
  matchedEach?: number[];
}

/** The answers a host gathered for one broadcast with acknowledgements. */
export interface AckCollection {
  /** One first-argument per socket that acknowledged in time. */
  responses: unknown[];
  /** How many sockets were sent the event (-1: the host no longer knows the ack id). */
  expected: number;
}

/** One host's outcome: its reply, or why there is none ("timeout", or the error's message). */
export type HostResult<R = HostReply> = { host: string; ok: true; reply: R } | { host: string; ok: false; error: "timeout" | string };

/** A host that did not answer (fetchSockets' `failures`, the acks' and serverSideEmit's). */
export interface HostFailure {
  host: string;
  error: "timeout" | string;
}

/** How an operation reaches hosts: every host concerned, or (`local`) only the caller's. */
export interface ReachOptions {
  local?: boolean;
  /** Per-host wait (default DEFAULT_HOST_TIMEOUT_MS) or, for acknowledgements, the ack timeout. */
  timeoutMs?: number;
}

/** The cross-host calls the server API needs answers from (implemented in cluster/gather.ts). */
export interface ClusterCalls {
  fetchSockets(target: Target, options: ReachOptions): Promise<{ sockets: RemoteSocketDetails[]; failures: HostFailure[] }>;
  emitWithAck(
    target: Target,
    event: string,
    args: unknown[],
    options: ReachOptions & { timeoutMs: number },
  ): Promise<{ responses: unknown[]; complete: boolean; failures: HostFailure[] }>;
  serverSideEmit(
    nsp: string,
    event: string,
    args: unknown[],
    ackTimeoutMs: number | undefined,
  ): Promise<{ responses: unknown[]; expected: number; failures: HostFailure[] }>;
}

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
  /** Applies an operation to matching sockets on every host, this one included (`local`: this one only). */
  fanout(op: HostOp, options?: { local?: boolean }): Promise<void>;
  /** The cross-host calls that bring answers back (fetchSockets, broadcast acks, serverSideEmit). */
  readonly cluster: ClusterCalls;
  disconnectSocket(socketId: string, reason: DisconnectReason, notifyClient: boolean): void;
  closeSession(sid: string, reason: DisconnectReason): void;
  persistSocketData(socketId: string, data: unknown): void;
  /** Calls `onTimeout` once `deadline` passes (driven by the host's alarm, not setTimeout). */
  scheduleDeadline(deadline: number, onTimeout: () => void): () => void;
}
