/**
 * What `fetchSockets()` returns: Socket.IO's RemoteSocket, a snapshot of a socket on any host
 * (`id`, `handshake`, `rooms`, `data`) whose methods act on the live socket wherever it is,
 * through an operator targeting its id (so through the cluster seam, like any broadcast).
 */
import type { BroadcastOperator, RoomArg } from "./broadcast-operator";
import type { Handshake, HostFailure, RemoteSocketDetails } from "./types";

export class RemoteSocket {
  readonly id: string;
  readonly handshake: Handshake;
  readonly rooms: Set<string>;
  /** `socket.data` as it was when fetched (a copy: changing it changes nothing on the socket). */
  readonly data: Record<string, unknown>;

  constructor(
    details: RemoteSocketDetails,
    /** Targets this socket's id only, `expectSingleResponse` set (built by BroadcastOperator.fetchSockets). */
    private readonly operator: BroadcastOperator,
  ) {
    this.id = details.id;
    this.handshake = details.handshake;
    this.rooms = new Set(details.rooms);
    this.data = (details.data ?? {}) as Record<string, unknown>;
  }

  /** Sends to this socket; with a trailing callback, `(err, response)` as `socket.timeout(ms).emit`. */
  emit(event: string, ...args: unknown[]): true {
    return this.operator.emit(event, ...args);
  }

  /** `remoteSocket.timeout(ms).emitWithAck(…)` resolves with the client's answer. */
  timeout(ms: number): BroadcastOperator {
    return this.operator.timeout(ms);
  }

  /** The private-room rules hold: another socket's id or another user's room is skipped. */
  join(room: RoomArg): Promise<void> {
    return this.operator.socketsJoin(room);
  }

  leave(room: RoomArg): Promise<void> {
    return this.operator.socketsLeave(room);
  }

  disconnect(close = false): this {
    void this.operator.disconnectSockets(close);
    return this;
  }
}

/** fetchSockets' answer: the sockets that answered, and (non-enumerable) the hosts that did not. */
export type FetchedSockets = RemoteSocket[] & { readonly failures: HostFailure[] };

export function withFailures(sockets: RemoteSocket[], failures: HostFailure[]): FetchedSockets {
  return Object.defineProperty(sockets, "failures", { value: failures, enumerable: false }) as FetchedSockets;
}
