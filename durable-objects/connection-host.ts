/**
 * ConnectionHost: the Durable Object that owns Engine.IO sessions and runs the app's handlers
 * for their sockets. This class is plumbing: it wires the layers together and is the runtime's
 * entry point (fetch, hibernatable WebSocket events, the one alarm, RPC from other objects).
 *
 *   engine/      Engine.IO sessions, transports, heartbeat        (engine/sessions.ts)
 *   socketio/    namespaces and sockets over those sessions       (socketio/client-bridge.ts)
 *   cluster/     operations on matching sockets of every host     (cluster/cluster.ts, cluster/host-ops.ts)
 *
 * Session state lives in SQLite and WebSocket attachments, so eviction and hibernation change
 * nothing a client can see.
 */
import { DurableObject } from "cloudflare:workers";
import type { WireFrame } from "../protocol/engine-codec";
import { isEio3Host, mintSocketId } from "../protocol/ids";
import { hostStub, type EdgeioBindings } from "./bindings";
import { configFrom, type EdgeioConfig } from "./config";
import { engineFetch, newHostName } from "./host-engine-entry";
import type { GetAnswer, PostAnswer, PostBody } from "./engine/polling";
import { HostStore } from "./host-store";
import { type HostStats, hostStatsOf } from "./host-stats";
import { BilledWork, CountingSql } from "./billed-work";
import { EngineSessions } from "./engine/sessions";
import { Heartbeat } from "./engine/heartbeat";
import { Eio3Heartbeat } from "./engine/heartbeat-v3";
import { autoResponsePairOf } from "./engine/framing";
import { clusterOf } from "./cluster/cluster";
import { clusterCalls } from "./cluster/gather";
import { type HostOps, hostOpsOf } from "./host-op-context";
import { TestStall } from "./cluster/test-stall";
import type { HostReply } from "./cluster/types";
import { HostAlarm } from "./host-alarm";
import { HostConflation } from "./cluster/host-conflation";
import { ConflationStore } from "./conflation-store";
import { type HostLoadReporter, hostLoadReporter } from "./stats/host-load";
import { hostRoomMembership } from "./host-rooms";
import { HostLeases } from "./host-leases";
import { HostFanout } from "./host-fanout";
import { HostRegistration } from "./host-registry";
import { type ShutdownNotice, tellSockets } from "./shutdown";
import { ClientBridge } from "./socketio/client-bridge";
import type { RoomMembership } from "./socketio/room-membership";
import { Server, type EdgeioApp } from "./socketio/server";
import type { AckCollection, ClusterCalls, DisconnectReason, HostOp, HostRuntime } from "./socketio/types";
import type { ConnectionStateRecoveryOptions } from "./recovery/options";
import { type HandedOver, type HandOverPhase, SessionRecovery } from "./recovery/session-recovery";
import type { ConnectionHostApi } from "./host-api";
import { recoveryHostOf, TestRecovery } from "./recovery/host-hooks";

export type { HostStats } from "./host-stats";
export type { ConnectionHostApi } from "./host-api";

export class ConnectionHost extends DurableObject<EdgeioBindings> implements HostRuntime, ConnectionHostApi {
  private readonly store: HostStore;
  private readonly config: EdgeioConfig;
  private readonly engine: EngineSessions;
  private readonly heartbeatV4: Heartbeat;
  private readonly heartbeatV3: Eio3Heartbeat;
  private readonly hostAlarm: HostAlarm;
  private readonly bridge: ClientBridge;
  private readonly rooms: RoomMembership;
  /** This host's leases on the rooms and namespaces it has sockets in (renewed by the alarm). */
  private readonly leases: HostLeases;
  private readonly registration: HostRegistration; // in the registry of hosts with sockets (shutdown)
  private readonly instanceId = crypto.randomUUID();
  private readonly work = new BilledWork();
  /** This host's load report to the cluster's stats (stats/host-load.ts), sent from the alarm. */
  private readonly load: HostLoadReporter;
  /** This host's own fan-outs, in order per sender (host-fanout.ts). */
  private readonly fanouts: HostFanout;
  /** Applies the cluster's operations to this host's sockets (cluster/host-ops.ts). */
  private readonly ops: HostOps;
  private readonly conflation: HostConflation; // conflated emits held for this host's sockets
  private readonly stall: TestStall;
  private readonly recovery: SessionRecovery;
  private readonly testRecoveryHook: TestRecovery;
  readonly cluster: ClusterCalls;

  constructor(ctx: DurableObjectState, env: EdgeioBindings, app: EdgeioApp) {
    super(ctx, env);
    this.config = configFrom(env);
    const sql = new CountingSql(ctx.storage.sql, this.work);
    this.store = new HostStore(sql);
    this.store.bumpMeta("constructions");
    // A client's pong (v3 host: the client's ping) is answered by the runtime without waking this
    // object; the heartbeat reads the auto-response timestamp to tell live peers from dead ones.
    this.setAutoResponse();

    this.engine = new EngineSessions(ctx, this.store, this.config, () => this.hostName);
    this.heartbeatV4 = new Heartbeat(this.store, this.config, this.engine);
    this.heartbeatV3 = new Eio3Heartbeat(this.store, this.config, this.engine);
    this.hostAlarm = new HostAlarm(
      ctx.storage,
      (now) =>
        [...this.heartbeat.dueTimes(now), this.recovery.nextExpiry(), this.load.alarmAt(now)].filter(
          (at): at is number => typeof at === "number",
        ),
      () => this.work.alarmWritten(),
    );
    this.load = hostLoadReporter(env, this.store, (at) => void this.hostAlarm.advance(at));
    const io = new Server(this);
    this.registration = new HostRegistration(env, this, this.store);
    const parts = () => ({ hostName: this.hostName, store: this.store, rooms: this.rooms, alarm: this.hostAlarm, bridge: this.bridge });
    this.recovery = new SessionRecovery(() => io.recovery, sql, recoveryHostOf(parts, env, this.config.sidSecret));
    this.testRecoveryHook = new TestRecovery(this.config.environment === "test", this.store, io, this.recovery.testHold);
    this.bridge = new ClientBridge(io, this, this.store, this.engine, () => this.rooms, {
      namespacesPerSession: this.config.limits.namespacesPerSession,
      mintSocketId: () => mintSocketId(this.config.sidSecret, this.hostName),
      // Host-level: only this host's first socket in a namespace reaches its directory.
      registerSocket: (nsp, socketId) => this.registration.alongside(this.rooms.registerSocket(nsp, socketId)),
      afterConnect: (releasedDeadline) => this.hostAlarm.release(releasedDeadline),
      recovery: this.recovery,
    });
    const live = (id: string) => this.bridge.live(id);
    const host = { store: this.store, hostName: () => this.hostName, live, roomsPerSocket: this.config.limits.roomsPerSocket };
    this.rooms = hostRoomMembership(env, host, (at, fire) => this.scheduleDeadline(at, fire));
    this.leases = new HostLeases(env, this.store, this.rooms, this.registration, this);
    this.engine.listen(this.bridge);
    this.stall = new TestStall(this.config.environment === "test");
    this.conflation = new HostConflation({
      storage: new ConflationStore(sql, this.store),
      deliver: (op) => void this.ops.apply(op).catch((error: unknown) => console.error("edgeio: conflated emit failed", error)),
      scheduleDeadline: (at, fire) => this.scheduleDeadline(at, fire),
    });
    this.ops = hostOpsOf({
      env,
      hostName: () => this.hostName,
      io,
      host: this,
      store: this.store,
      engine: this.engine,
      recovery: this.recovery,
      rooms: () => this.rooms,
      bridge: () => this.bridge,
      conflation: this.conflation,
    });
    this.fanouts = new HostFanout(env, () => this.hostName, this.ops);
    this.cluster = clusterCalls({
      // The fan-outs' kept stubs: an emit with acks cannot overtake the plain emits before it.
      cluster: clusterOf(env, undefined, this.fanouts.stubs),
      self: this.fanouts.local,
      collectAcks: (host, ackId) => hostStub(env, host).collectAcks(ackId),
      sequence: this.fanouts.sequence,
    });
    app.setup(io, env as unknown as Record<string, unknown>);
    this.testRecoveryHook.restore();
  }

  get hostName(): string {
    return this.store.getMeta<string>("name") ?? this.ctx.id.name ?? "unknown:0";
  }

  /** v4 hosts ping their clients; hosts of the Engine.IO v3 pool are pinged by theirs. */
  private get heartbeat(): Heartbeat | Eio3Heartbeat {
    return isEio3Host(this.hostName) ? this.heartbeatV3 : this.heartbeatV4;
  }

  /** Counts an invocation of the runtime's (billed work) and the wake it is. */
  private wake(kind: Parameters<BilledWork["invoked"]>[0]): void {
    this.work.invoked(kind);
    this.store.bumpMeta("wakes");
  }

  private setAutoResponse(): void {
    this.ctx.setWebSocketAutoResponse(autoResponsePairOf(this.hostName, this.config.pongAutoResponse));
  }

  get maxPendingAcks(): number {
    return this.config.limits.pendingAcks;
  }

  // ── the runtime's entry points ─────────────────────────────
  /** An Engine.IO request the Worker verified (engine/verify.ts rules 1–9) and forwarded here. */
  async fetch(request: Request): Promise<Response> {
    this.wake("fetch");
    const stored = this.store.getMeta<string>("name"); // ctx.id.name (a runtime getter) matters only to a host without one
    const host = newHostName(request, stored, stored === null ? this.ctx.id.name : undefined);
    if (host) {
      this.store.setMeta("name", host);
      this.setAutoResponse(); // the first request tells a new host which pool it serves
    }
    return engineFetch(this.engine, this.config, this.hostAlarm, request);
  }

  /** A long-polling POST, its body read by the Worker: no Request, stream or Response here (engine/polling.ts). */
  pollPost(sid: string, body: PostBody): PostAnswer {
    this.wake("rpc");
    return this.engine.polling.post(sid, body);
  }

  /** A long-polling GET (engine/polling.ts `get`) and its frames given back (`pollRequeue`), see host-api.ts. */
  pollGet(sid: string): GetAnswer | Promise<GetAnswer> {
    this.wake("rpc");
    return this.engine.polling.get(sid);
  }

  pollRequeue(sid: string, frames: string[]): void {
    this.work.invoked("rpc");
    this.engine.polling.requeue(sid, frames);
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.wake("webSocketMessage");
    this.engine.webSocketMessage(ws, message);
  }

  async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.wake("webSocketClose");
    this.engine.webSocketGone(ws, "transport close", code);
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closed");
    } catch {
      // already closed
    }
  }

  async webSocketError(ws: WebSocket): Promise<void> {
    this.wake("webSocketError");
    this.engine.webSocketGone(ws, "transport error");
  }

  /** One alarm for everything: pings, pong checks, connect timeouts, ack timeouts. */
  async alarm(): Promise<void> {
    this.wake("alarm");
    this.store.bumpMeta("alarms");
    this.hostAlarm.fired();
    const now = Date.now();
    try {
      // The heartbeat's schedule, the report and lease times and the counters: one row, written once (host-meta.ts).
      this.store.batchMeta(() => {
        this.heartbeat.run(now);
        this.conflation.load(); // after an eviction: held conflated values come back, due now or later
        this.hostAlarm.runDeadlines(now);
        // Recovery windows that ran out: their sockets leave their rooms (RoomDO calls, not awaited here).
        this.ctx.waitUntil(this.bridge.expireRecoveries(now));
        this.store.flushCounters();
        const report = this.load.onAlarm(now, this.hostName);
        if (report) this.ctx.waitUntil(report);
        // Renewed from this alarm, which runs anyway while the host has sessions: no extra wake.
        this.leases.renewIfDue(now, (work) => this.ctx.waitUntil(work));
      });
    } finally {
      await this.hostAlarm.schedule();
    }
  }

  // ── RPC ────────────────────────────────────────────────────
  /** Applies an operation to this host's matching sockets; says how many matched (and what the op brings back). */
  async apply(op: HostOp): Promise<HostReply> {
    this.work.invoked("rpc");
    await this.stall.pass();
    return this.ops.apply(op, true);
  }

  async collectAcks(ackId: string): Promise<AckCollection> {
    this.work.invoked("rpc");
    await this.stall.pass();
    return this.ops.collectAcks(ackId);
  }

  shutdown(notice: ShutdownNotice): Promise<HostReply> {
    this.work.invoked("rpc");
    return this.stall.pass().then(() => tellSockets(this.store, (sid, frames) => this.engine.send(sid, frames), notice));
  }

  roomHostsChanged(key: string): void {
    this.work.invoked("rpc");
    this.fanouts.roomHosts.invalidate(key);
  }

  testStall(stalled: boolean): void {
    this.stall.set(stalled);
  }

  aliveSockets(socketIds: string[]): string[] {
    this.work.invoked("rpc");
    return socketIds.filter((id) => {
      const row = this.store.socket(id);
      if (row === null) return this.recovery.hasForward(id);
      return this.store.session(row.sid)?.closing === 0 || this.recovery.isSuspended(id);
    });
  }

  takeRecovery(socketId: string, nsp: string, taker: string, phase?: HandOverPhase): Promise<HandedOver | null> {
    this.work.invoked("rpc");
    return this.recovery.handOver(socketId, nsp, taker, phase);
  }

  dropRecoveryForward(socketId: string): void {
    this.work.invoked("rpc");
    this.recovery.dropForward(socketId);
  }

  testDrop(sid: string): void {
    this.testRecoveryHook.check();
    this.engine.fail(sid, "transport error");
  }

  testRecovery(options: ConnectionStateRecoveryOptions | null, hold?: boolean): number {
    return this.testRecoveryHook.set(options, hold);
  }

  stats(): HostStats {
    this.work.invoked("stats");
    const webSockets = this.ctx.getWebSockets().length;
    return hostStatsOf(this.store, { instanceId: this.instanceId, webSockets, work: this.work.snapshot() });
  }

  // ── HostRuntime: what sockets and namespaces ask of their host ──
  sendFrames(sid: string, frames: WireFrame[], volatile = false): void {
    this.engine.send(sid, this.recovery.mark(frames, volatile), volatile);
  }

  transportOf(sid: string): string {
    return this.engine.transportOf(sid);
  }

  join(socketId: string, rooms: string[]): Promise<void> {
    return this.rooms.join(socketId, rooms);
  }

  leave(socketId: string, rooms: string[]): Promise<void> {
    return this.rooms.leave(socketId, rooms);
  }

  fanout(op: HostOp, options: { local?: boolean } = {}): Promise<void> {
    return this.fanouts.run(op, options);
  }

  disconnectSocket(socketId: string, reason: DisconnectReason, notifyClient: boolean): void {
    void this.bridge.removeSocket(socketId, reason, notifyClient);
  }

  closeSession(sid: string, reason: DisconnectReason): void {
    this.bridge.closeSession(sid, reason);
  }

  persistSocketData(socketId: string, data: unknown): void {
    this.store.saveSocketData(socketId, JSON.stringify(data ?? {}));
  }

  scheduleDeadline(deadline: number, fire: () => void): () => void {
    return this.hostAlarm.addDeadline(deadline, fire);
  }
}
