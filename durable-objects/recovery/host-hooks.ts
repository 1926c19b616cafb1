/**
 * Connection-state recovery as a ConnectionHost plugs it in: the host facade recovery uses
 * (RPC to other hosts, the rooms' directories, the alarm), forwarded operations, and the
 * ENVIRONMENT=test hooks (switch recovery on one host, persisted so it survives eviction).
 */
import { hostOfSocketId } from "../../protocol/ids";
import { type EdgeioBindings, hostStub } from "../bindings";
import { withTimeout } from "../cluster/apply";
import { clusterOf } from "../cluster/cluster";
import { DEFAULT_HOST_TIMEOUT_MS } from "../cluster/types";
import type { HostStore } from "../host-store";
import type { RoomMembership } from "../socketio/room-membership";
import type { Server } from "../socketio/server";
import type { HostOp, HostReply, Target } from "../socketio/types";
import type { TestHold } from "./hand-over";
import type { ConnectionStateRecoveryOptions } from "./options";
import type { RecoveryHost, SessionRecovery } from "./session-recovery";

/** What of the ConnectionHost the facade reads (lazily: rooms and the alarm are built after recovery). */
export interface RecoveryHostParts {
  readonly hostName: string;
  readonly store: HostStore;
  readonly rooms: RoomMembership;
  readonly alarm: { schedule(): Promise<void> };
  readonly bridge: { endRecovery(socketId: string): Promise<void>; closeSession(sid: string, reason: "transport close"): void };
}

export function recoveryHostOf(host: () => RecoveryHostParts, env: EdgeioBindings, sidSecret: string): RecoveryHost {
  return {
    get hostName() {
      return host().hostName;
    },
    get sockets() {
      return host().store;
    },
    sidSecret,
    // Bounded like every cross-host call: a stuck host costs a fresh socket, not a hung CONNECT.
    takeFrom: async (name, socketId, nsp, taker, phase) => {
      const outcome = await withTimeout(hostStub(env, name).takeRecovery(socketId, nsp, taker, phase), DEFAULT_HOST_TIMEOUT_MS);
      if (!outcome.ok) throw new Error(`takeRecovery on ${name}: ${outcome.error}`);
      return outcome.value;
    },
    dropForwardAt: (home, socketId) => hostStub(env, home).dropRecoveryForward(socketId),
    leaveDirectories: (nsp, socketId, rooms, data, untracked) =>
      host().rooms.leaveDirectory(nsp, socketId, [...rooms, null], data, untracked),
    scheduleAlarm: () => void host().alarm.schedule(),
    overflowed: (socketId) => void host().bridge.endRecovery(socketId),
    endStaleSession: (sid) => host().bridge.closeSession(sid, "transport close"),
  };
}

/**
 * An operation naming by id sockets that recovered on other hosts reaches them there (per-host
 * timeout as any apply), except those its sender reached itself (`op.reached`, cluster/host-ops.ts `claim`).
 */
export async function forwardOp(env: EdgeioBindings, recovery: SessionRecovery, op: HostOp): Promise<HostReply[]> {
  if (op.kind === "emitWithAck" || op.kind === "serverEmit") return [];
  const targets = recovery.forwardTargets(op.target, op.reached);
  if (targets.length === 0) return [];
  const cluster = clusterOf(env);
  // Not `viaHomes`: the host it goes to selects the socket by its id (the home decided for it).
  const results = await Promise.all(
    targets.map(({ host, target }) => cluster.applyOn([host], { ...op, target, viaHomes: undefined }).results),
  );
  return results.flat().flatMap((result) => (result.ok ? [result.reply] : []));
}

/**
 * The socket ids among `target`'s rooms whose sockets are on this host (live, suspended or being
 * handed in) though their ids name another host: they recovered here. Nothing is read when
 * recovery is off or no room is named.
 */
export function recoveredHere(recovery: SessionRecovery, store: HostStore, hostName: () => string, target: Target): string[] {
  if (!recovery.enabled || target.rooms.length === 0) return [];
  const self = hostName();
  return target.rooms.filter((room) => {
    const home = hostOfSocketId(room);
    return home !== null && home !== self && store.socket(room)?.nsp === target.nsp;
  });
}

const META_KEY = "test_recovery";

/** ENVIRONMENT=test only: recovery switched on one host without redeploying (refused otherwise). */
export class TestRecovery {
  constructor(
    private readonly enabled: boolean,
    private readonly store: HostStore,
    private readonly io: Server,
    private readonly hold: TestHold,
  ) {}

  check(): void {
    if (!this.enabled) throw new Error("edgeio: test hooks are only available when ENVIRONMENT=test");
  }

  /** `hold`: hand-overs to this host wait between their phases (until called with false). Returns how many wait. */
  set(options: ConnectionStateRecoveryOptions | null, hold = false): number {
    this.check();
    this.store.setMeta(META_KEY, options ? JSON.stringify(options) : null);
    this.io.configureRecovery(options ?? undefined);
    this.hold.set(hold);
    return this.hold.held;
  }

  /** After the app's setup: a switch made before an eviction still holds. */
  restore(): void {
    if (!this.enabled) return;
    const options = this.store.getMeta<string>(META_KEY);
    if (options) this.io.configureRecovery(JSON.parse(options) as ConnectionStateRecoveryOptions);
  }
}
