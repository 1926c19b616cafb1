/** The ConnectionHost's RPC surface: what other hosts, RoomDOs, UserDOs and the Worker call. */
import type { HostStats } from "./host-stats";
import type { GetAnswer, PostAnswer, PostBody } from "./engine/polling";
import type { HostReply } from "./cluster/types";
import type { ConnectionStateRecoveryOptions } from "./recovery/options";
import type { HandedOver, HandOverPhase } from "./recovery/session-recovery";
import type { ShutdownNotice } from "./shutdown";
import type { AckCollection, HostOp } from "./socketio/types";

/** The RPC surface other hosts, RoomDOs and the Worker use. */
export interface ConnectionHostApi {
  apply(op: HostOp): Promise<HostReply>;
  /** The acknowledgements gathered for a broadcast `apply`'d with `emitWithAck` (cluster/gather.ts). */
  collectAcks(ackId: string): Promise<AckCollection>;
  /** A RoomDO added a host: this host's copy of its host list (key: the room) is dropped (cluster/room-hosts-cache.ts). */
  roomHostsChanged(key: string): void;
  /** ENVIRONMENT=test only: `apply`/`collectAcks` stop answering until called with false. */
  testStall(stalled: boolean): void;
  /** Which of these socket ids are still connected here (RoomDO/UserDO leases ask this). */
  aliveSockets(socketIds: string[]): string[];
  /** A long-polling POST whose body the Worker read (engine/polling.ts). */
  pollPost(sid: string, body: PostBody): PostAnswer;
  /** A long-polling GET: frames now or after a short wait in memory, an error, or "hold it on a channel". */
  pollGet(sid: string): GetAnswer | Promise<GetAnswer>;
  /** Frames a `pollGet` answered whose client had gone: first in line for the next GET. */
  pollRequeue(sid: string, frames: string[]): void;
  stats(): HostStats;
  /** Orderly redeploys: `server:shutdown` to every socket of this host (shutdown.ts). */
  shutdown(notice: ShutdownNotice): Promise<HostReply>;
  /** Connection-state recovery: hands a suspended socket to the host its client came back through, in two phases. */
  takeRecovery(socketId: string, nsp: string, taker: string, phase?: HandOverPhase): Promise<HandedOver | null>;
  /** A socket whose id names this host is gone for good on the host it recovered on. */
  dropRecoveryForward(socketId: string): void;
  /**
   * ENVIRONMENT=test only: end a session as a transport failure would / switch recovery on this
   * host (`hold`: hand-overs to it wait between their phases; returns how many wait).
   */
  testDrop(sid: string): void;
  testRecovery(options: ConnectionStateRecoveryOptions | null, hold?: boolean): number;
}
