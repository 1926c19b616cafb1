/**
 * ConnectionHost: the Durable Object that owns Engine.IO sessions and runs the app's handlers
 * for their sockets. This class is plumbing: it wires the layers together and is the runtime's
 * entry point (fetch, hibernatable WebSocket events, the one alarm, RPC from other objects).
 *
 *   engine/      Engine.IO sessions, transports, heartbeat        (engine/sessions.ts)
 *   socketio/    namespaces and sockets over those sessions       (socketio/client-bridge.ts)
 *   cluster/     operations on matching sockets of every host     (cluster/cluster.ts, apply() below)
 *
 * Session state lives in SQLite and WebSocket attachments, so eviction and hibernation change
 * nothing a client can see.
 */
import { DurableObject } from "cloudflare:workers";
import type { WireFrame } from "../protocol/engine-codec";
import { mintSocketId } from "../protocol/ids";
import { HOST_HEADER, POLL_CHANNEL_HEADER } from "../protocol/internal-headers";
import type { EdgeioBindings } from "./bindings";
import { configFrom, type EdgeioConfig, type TransportName } from "./config";
import { LIMIT_MESSAGES, type LimitName } from "./engine/limits";
import { HostStore } from "./host-store";
import { EngineSessions } from "./engine/sessions";
import { Heartbeat } from "./engine/heartbeat";
import { clusterOf } from "./cluster/cluster";
import { Sequence } from "./cluster/sequence";
import type { HostReply } from "./cluster/types";
import { HostAlarm } from "./host-alarm";
import { presenceConfigFrom } from "./presence/config";
import { LeaseRenewal } from "./cluster/lease";
import { renewLease, roomDirectoryOf } from "./host-rooms";
import { ClientBridge } from "./socketio/client-bridge";
import { RoomMembership, type RoomReport } from "./socketio/room-membership";
import { Server, type EdgeioApp } from "./socketio/server";
import type { DisconnectReason, HostOp, HostRuntime } from "./socketio/types";

/** The RPC surface other hosts, RoomDOs and the Worker use. */
export interface ConnectionHostApi {
  apply(op: HostOp): Promise<HostReply>;
  /** Which of these socket ids are still connected here (RoomDO/UserDO leases ask this). */
  aliveSockets(socketIds: string[]): string[];
  stats(): HostStats;
}

export interface HostStats {
  host: string | null;
  instanceId: string;
  constructions: number;
  wakes: number;
  alarms: number;
  sessions: number;
  sockets: number;
  webSockets: number;
  /** Backpressure: volatile packets dropped because a session's transport was not writable. */
  volatileDropped: number;
  /** Sessions closed for a limit, by limit (README "Limits"). */
  closedForLimits: Partial<Record<LimitName, number>>;
}

export class ConnectionHost extends DurableObject<EdgeioBindings> implements HostRuntime, ConnectionHostApi {
  private readonly store: HostStore;
  private readonly config: EdgeioConfig;
  private readonly engine: EngineSessions;
  private readonly heartbeat: Heartbeat;
  private readonly hostAlarm: HostAlarm;
  private readonly bridge: ClientBridge;
  private readonly rooms: RoomMembership;
  /** This host's leases on the rooms and namespaces it has sockets in (renewed by the alarm). */
  private readonly leases: LeaseRenewal<RoomReport>;
  private renewing = false;
  private readonly instanceId = crypto.randomUUID();
  /** This host's fan-outs, in order per sender as Socket.IO keeps them (see cluster/sequence.ts). */
  private readonly fanoutChain = new Sequence();

  constructor(ctx: DurableObjectState, env: EdgeioBindings, app: EdgeioApp) {
    super(ctx, env);
    this.config = configFrom(env);
    this.store = new HostStore(ctx.storage.sql);
    this.store.bumpMeta("constructions");
    // A client's pong is answered by the runtime without waking this object; the heartbeat
    // reads the auto-response timestamp to tell live peers from dead ones.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("3", "6"));

    this.engine = new EngineSessions(ctx, this.store, this.config, () => this.hostName);
    this.heartbeat = new Heartbeat(this.store, this.config, this.engine);
    this.hostAlarm = new HostAlarm(ctx.storage, (now) => this.heartbeat.dueTimes(now));
    const io = new Server(this);
    this.bridge = new ClientBridge(io, this, this.store, this.engine, () => this.rooms, {
      namespacesPerSession: this.config.limits.namespacesPerSession,
      mintSocketId: () => mintSocketId(this.config.sidSecret, this.hostName),
      // Host-level: only this host's first socket in a namespace reaches its directory.
      registerSocket: (nsp, socketId) => this.rooms.registerSocket(nsp, socketId),
      afterConnect: () => this.hostAlarm.schedule(),
    });
    const directory = roomDirectoryOf(env, () => this.hostName);
    this.rooms = new RoomMembership(this.store, (id) => this.bridge.live(id), directory, this.config.limits.roomsPerSocket);
    this.leases = new LeaseRenewal(presenceConfigFrom(env as unknown as Record<string, unknown>).leaseMs, {
      lastRenewal: () => this.store.getMeta<number>("lease_renewed_at"),
      setLastRenewal: (at) => this.store.setMeta("lease_renewed_at", at),
    });
    this.engine.listen(this.bridge);
    app.setup(io, env as unknown as Record<string, unknown>);
  }

  get hostName(): string {
    return this.store.getMeta<string>("name") ?? "unknown:0";
  }

  get maxPendingAcks(): number {
    return this.config.limits.pendingAcks;
  }

  // ── the runtime's entry points ─────────────────────────────
  /** An Engine.IO request the Worker verified (engine/verify.ts rules 1–9) and forwarded here. */
  async fetch(request: Request): Promise<Response> {
    this.store.bumpMeta("wakes");
    const host = request.headers.get(HOST_HEADER);
    if (host && this.store.getMeta("name") !== host) this.store.setMeta("name", host);
    const url = new URL(request.url);
    const sid = url.searchParams.get("sid");
    const transport = url.searchParams.get("transport") as TransportName | null;
    const isUpgrade = request.headers.get("Upgrade")?.toLowerCase() === "websocket";
    if (!sid) {
      const response = await this.engine.handshake(request, url, transport ?? "polling", isUpgrade);
      await this.hostAlarm.schedule();
      return response;
    }
    return this.engine.route(request, sid, transport, isUpgrade, request.headers.has(POLL_CHANNEL_HEADER));
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.store.bumpMeta("wakes");
    this.engine.webSocketMessage(ws, message);
  }

  async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.store.bumpMeta("wakes");
    this.engine.webSocketGone(ws, "transport close");
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closed");
    } catch {
      // already closed
    }
  }

  async webSocketError(ws: WebSocket): Promise<void> {
    this.store.bumpMeta("wakes");
    this.engine.webSocketGone(ws, "transport error");
  }

  /** One alarm for everything: pings, pong checks, connect timeouts, ack timeouts. */
  async alarm(): Promise<void> {
    this.store.bumpMeta("wakes");
    this.store.bumpMeta("alarms");
    this.hostAlarm.fired();
    const now = Date.now();
    try {
      this.heartbeat.run(now);
      this.hostAlarm.runDeadlines(now);
      // Renewed from this alarm, which runs anyway while the host has sessions: no extra wake.
      // Not awaited: the heartbeat's next alarm must not wait for renewal calls.
      if (this.leases.due(now) && !this.renewing) {
        this.renewing = true;
        this.ctx.waitUntil(
          this.renewLeases(now).finally(() => {
            this.renewing = false;
          }),
        );
      }
    } finally {
      await this.hostAlarm.schedule();
    }
  }

  /** One lease renewal of every room, namespace and user this host has sockets in (cluster/lease.ts). */
  private async renewLeases(now: number): Promise<void> {
    const host = this.hostName;
    await this.leases.run(now, this.rooms.reports(), async (report) => {
      const missing = await renewLease(this.env, host, report, now);
      if (missing.length > 0 && report.kind === "room" && report.room !== null) await this.rooms.rejoin(report.nsp, report.room, missing);
    });
  }

  // ── RPC ────────────────────────────────────────────────────
  /** Applies an operation to this host's matching sockets; says how many matched. */
  async apply(op: HostOp): Promise<HostReply> {
    const { nsp, rooms, except } = op.target;
    const selected = this.store.select(nsp, rooms, except);
    switch (op.kind) {
      case "emit":
        for (const socket of selected) this.engine.send(socket.sid, op.frames, op.volatile === true);
        break;
      case "join":
        await Promise.all(selected.map((socket) => this.rooms.join(socket.id, op.rooms)));
        break;
      case "leave":
        await Promise.all(selected.map((socket) => this.rooms.leave(socket.id, op.rooms)));
        break;
      case "disconnect":
        for (const socket of selected) {
          if (op.close) this.bridge.closeSession(socket.sid, "server namespace disconnect");
          else this.disconnectSocket(socket.id, "server namespace disconnect", true);
        }
        break;
    }
    return { matched: selected.length };
  }

  aliveSockets(socketIds: string[]): string[] {
    return socketIds.filter((id) => {
      const row = this.store.socket(id);
      return row !== null && this.store.session(row.sid)?.closing === 0;
    });
  }

  stats(): HostStats {
    return {
      host: this.store.getMeta<string>("name"),
      instanceId: this.instanceId,
      constructions: this.store.getMeta<number>("constructions") ?? 0,
      wakes: this.store.getMeta<number>("wakes") ?? 0,
      alarms: this.store.getMeta<number>("alarms") ?? 0,
      sessions: this.store.sessionCount(),
      sockets: this.store.socketCount(),
      webSockets: this.ctx.getWebSockets().length,
      volatileDropped: this.store.getMeta<number>("volatile_dropped") ?? 0,
      closedForLimits: Object.fromEntries(
        (Object.keys(LIMIT_MESSAGES) as LimitName[])
          .map((limit) => [limit, this.store.getMeta<number>(`closed_for:${limit}`) ?? 0])
          .filter(([, count]) => count !== 0),
      ),
    };
  }

  // ── HostRuntime: what sockets and namespaces ask of their host ──
  sendFrames(sid: string, frames: WireFrame[], volatile = false): void {
    this.engine.send(sid, frames, volatile);
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

  fanout(op: HostOp): Promise<void> {
    const local = { name: this.hostName, apply: (o: HostOp) => this.apply(o) };
    return this.fanoutChain
      .run(() => clusterOf(this.env).apply(op, { local }))
      .then(
        () => undefined,
        (error: unknown) => {
          console.error("edgeio: fan-out failed", error);
          throw error;
        },
      );
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

/** The ConnectionHost class for an app: what the Worker entry exports (see worker/edgeio.ts). */
export function createConnectionHost(
  app: EdgeioApp,
): typeof ConnectionHost & (new (ctx: DurableObjectState, env: EdgeioBindings) => ConnectionHost) {
  return class extends ConnectionHost {
    constructor(ctx: DurableObjectState, env: EdgeioBindings) {
      super(ctx, env, app);
    }
  } as never;
}
