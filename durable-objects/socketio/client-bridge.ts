/**
 * Between Engine.IO sessions and Socket.IO namespaces (the role of socket.io's `client.ts`):
 * decodes each session's packets, connects namespaces (middlewares, then "connection"),
 * dispatches events and acks to sockets, rebuilds sockets from SQLite after an eviction (the
 * "connection" handler replayed without side effects), and removes sockets when they or their
 * session go.
 */
import { encodeConnectReply, encodePacket, PacketType, type Packet } from "../../protocol/socketio-codec";
import type { WireFrame } from "../../protocol/engine-codec";
import { authFromHandshakeQuery, connectErrorDataV4, connectPacketV4, parseConnectNamespace } from "../../protocol/socketio-v4";
import type { LimitName } from "../engine/limits";
import type { HostStore, SocketRow } from "../host-store";
import type { CloseFrame, CloseReason, EngineListener, HandshakeRecord } from "../engine/types";
import { OpenRecords } from "./open-records";
import { HandIn } from "../recovery/hand-in";
import type { SessionRecovery } from "../recovery/session-recovery";
import { authOf, childKey, describeStored, handshakeFrom, handshakeOf, isV4Record } from "./handshake";
import { SocketExit } from "./socket-exit";
import type { RoomMembership } from "./room-membership";
import type { Namespace, Server } from "./server";
import { runConnectionListeners, runMiddlewares } from "./connect-middlewares";
import { Socket } from "./socket";
import { SessionDecoders } from "./session-decoders";
import type { DisconnectReason, HostRuntime, RemoteSocketDetails } from "./types";

/** What the bridge needs from the Engine.IO layer below it. */
export interface EngineLink {
  send(sid: string, frames: WireFrame[], volatile?: boolean): void;
  close(sid: string, reason: CloseReason, frame?: CloseFrame): void;
  closeForLimit(sid: string, limit: LimitName): void;
}

export interface BridgeOptions {
  namespacesPerSession: number;
  /** A new socket id for this host (signed: see protocol/ids.ts). */
  mintSocketId(): Promise<string>;
  /** Registers a connected socket with its namespace (host-level: see room-membership.ts), before the client hears CONNECT. */
  registerSocket(nsp: string, socketId: string): Promise<void>;
  /** After a namespace connected, with the connect deadline that went away (null: a resume; anything may have changed). */
  afterConnect(releasedDeadline: number | null): Promise<void>;
  /** Connection-state recovery (durable-objects/recovery/). */
  recovery: SessionRecovery;
}

export class ClientBridge implements EngineListener {
  private readonly decoders = new SessionDecoders((sid, packet) => void this.onPacket(sid, packet));
  /** Socket objects live in this instance; rebuilt from SQLite after eviction. */
  private readonly liveSockets = new Map<string, Socket>();
  /** "connection" replays still running for restored sockets; their packets wait for them. */
  private readonly replays = new Map<string, Promise<void>>();
  /** Namespaces each session is connecting right now (middlewares running). */
  private readonly connecting = new Map<string, Set<string>>();
  /** Handshake records (and first socket ids) of sessions this instance opened, until their first CONNECT. */
  private readonly openRecords = new OpenRecords();
  private readonly exit: SocketExit;
  private readonly recovery: SessionRecovery;
  private readonly handIn: HandIn;

  constructor(
    private readonly io: Server,
    private readonly runtime: HostRuntime,
    private readonly store: HostStore,
    private readonly engine: EngineLink,
    private readonly rooms: () => RoomMembership,
    private readonly options: BridgeOptions,
  ) {
    this.recovery = options.recovery;
    this.handIn = new HandIn(options.recovery, store, rooms, options.registerSocket);
    this.exit = new SocketExit({
      io,
      store,
      recovery: options.recovery,
      rooms,
      send: (sid, frames) => engine.send(sid, frames),
      close: (sid, reason) => engine.close(sid, reason),
      restore: (row) => this.restoreSocket(row),
      drop: (socketId) => this.liveSockets.delete(socketId),
      namespaceOf: (name) => this.namespaceOf(name),
    });
  }

  live(socketId: string): Socket | undefined {
    return this.liveSockets.get(socketId);
  }

  /** The Socket of `socketId` (rebuilt after an eviction), once its "connection" replay is over. */
  async ready(socketId: string): Promise<Socket | undefined> {
    const row = this.store.socket(socketId);
    if (!row || this.recovery.isSuspended(socketId)) return undefined;
    const socket = this.restoreSocket(row);
    await this.replays.get(socketId);
    return socket.connected ? socket : undefined;
  }

  /** What fetchSockets reports of a socket of this host, read without rebuilding it. */
  describe(socketId: string): RemoteSocketDetails | null {
    return describeStored(this.store, socketId, this.liveSockets.get(socketId));
  }

  // ── from the Engine.IO layer ───────────────────────────────
  /** socket.io-client 2.x (Engine.IO v3) never sends a CONNECT for "/": it is connected at open. */
  onOpen(sid: string, record: HandshakeRecord, socketId: string): void {
    if (!this.store.session(sid)) return;
    this.openRecords.set(sid, record, socketId);
    if (isV4Record(record)) void this.connectNamespace(sid, "/", authFromHandshakeQuery(record.query));
  }

  onMessage(sid: string, data: string | ArrayBuffer): void {
    try {
      this.decoders.add(sid, data);
    } catch (error) {
      console.warn(`edgeio: malformed Socket.IO packet on session ${sid}: ${(error as Error).message}`);
      this.engine.close(sid, "parse error");
    }
  }

  onClose(sid: string, reason: CloseReason): void {
    for (const row of this.store.socketsOfSession(sid)) {
      if (this.recovery.recoverable(reason)) void this.exit.suspend(row, reason);
      else void this.removeSocket(row.id, reason, false);
    }
    this.decoders.forget(sid);
    this.openRecords.delete(sid);
  }

  onForget(sid: string): void {
    this.decoders.forget(sid);
    this.openRecords.delete(sid);
  }

  // ── session-wide operations the app asks for ───────────────
  /** Ends the whole Engine.IO session of a socket. */
  closeSession(sid: string, reason: DisconnectReason): void {
    this.exit.closeSession(sid, reason);
  }

  // ── Socket.IO packets ──────────────────────────────────────
  private async onPacket(sid: string, packet: Packet): Promise<void> {
    if (packet.type === PacketType.CONNECT) {
      // A 2.x client puts its query in the namespace (`0/chat?token=…,`): that query is its auth.
      const session = this.store.session(sid);
      if (session && isV4Record(this.openRecords.recordOf(sid, session.handshake))) {
        const { nsp, query } = parseConnectNamespace(packet.nsp);
        return this.connectNamespace(sid, nsp, query);
      }
      return this.connectNamespace(sid, packet.nsp, packet.data);
    }
    const socket = this.socketOf(sid, packet.nsp);
    if (!socket) return; // Socket.IO ignores packets for a namespace the session has not joined.
    // After an eviction, handlers must be registered (and the replay over) before the first event.
    const replay = this.replays.get(socket.id);
    if (replay) await replay;
    switch (packet.type) {
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT: {
        const [event, ...args] = packet.data as [string, ...unknown[]];
        if (packet.id !== undefined) args.push(this.ackSender(socket, packet.id));
        await socket.dispatch(event, args);
        return;
      }
      case PacketType.ACK:
      case PacketType.BINARY_ACK:
        socket.resolveAck(packet.id!, packet.data as unknown[]);
        return;
      case PacketType.DISCONNECT:
        await this.removeSocket(socket.id, "client namespace disconnect", false);
        return;
      default:
        this.engine.close(sid, "parse error");
    }
  }

  private ackSender(socket: Socket, id: number) {
    let sent = false;
    return (...args: unknown[]) => {
      if (sent || !socket.connected) return;
      sent = true;
      this.engine.send(socket.sid, encodePacket({ type: PacketType.ACK, nsp: socket.nsp, id, data: args }));
    };
  }

  // ── connecting a namespace ─────────────────────────────────
  private async connectNamespace(sid: string, nspName: string, auth: unknown): Promise<void> {
    const session = this.store.session(sid);
    if (!session) return;
    const connected = this.store.socketsOfSession(sid).map((row) => row.nsp);
    const connecting = this.connecting.get(sid) ?? new Set<string>();
    if (connected.includes(nspName) || connecting.has(nspName)) {
      // A second CONNECT for a namespace the session has: Socket.IO closes the session too.
      return this.engine.closeForLimit(sid, "duplicate_connect");
    }
    const limit = this.options.namespacesPerSession;
    if (connected.length + connecting.size >= limit) {
      const data = { message: "Too many namespaces", data: { code: "namespace_limit", limit } };
      this.engine.send(sid, encodePacket({ type: PacketType.CONNECT_ERROR, nsp: nspName, data }));
      return;
    }
    connecting.add(nspName);
    this.connecting.set(sid, connecting);
    try {
      // A declared namespace, a child created before, or one a parent (regex / function) allows now.
      const namespace = this.namespaceOf(nspName) ?? (await this.io.checkNamespace(nspName, authOf(auth)));
      if (!namespace) {
        this.engine.send(sid, encodePacket({ type: PacketType.CONNECT_ERROR, nsp: nspName, data: { message: "Invalid namespace" } }));
        return;
      }
      await this.connectSocket(sid, this.openRecords.recordOf(sid, session.handshake), namespace, nspName, auth);
    } finally {
      connecting.delete(nspName);
      if (connecting.size === 0) this.connecting.delete(sid);
      this.openRecords.delete(sid); // its first CONNECT is over (a later one parses the row)
    }
  }

  private async connectSocket(sid: string, record: HandshakeRecord, namespace: Namespace, nspName: string, auth: unknown): Promise<void> {
    // Connection-state recovery: a `pid` in the auth may bring a dropped socket back (docs/recovery.md).
    // (Without a pid there is nothing to resume: no call, no await, on the usual connect.)
    const resumed = authOf(auth).pid === undefined ? null : await this.recovery.resume(nspName, auth, sid);
    const socket = new Socket(this.runtime, {
      id: resumed?.socketId ?? this.openRecords.takeSocketId(sid) ?? (await this.options.mintSocketId()),
      sid,
      nsp: nspName,
      handshake: handshakeFrom(record, auth),
      data: resumed ? JSON.parse(resumed.data) : {},
      rooms: resumed?.rooms ?? [],
      restored: false,
      recovered: resumed !== null,
    });

    const skip = resumed !== null && this.io.recovery?.skipMiddlewares === true;
    const failure = skip || namespace.middlewares.length === 0 ? null : await runMiddlewares(namespace.middlewares, socket);
    const v4Protocol = isV4Record(record);
    // Refused or gone: a socket suspended here, or on the host it is taken from, stays suspended for its window.
    if (!this.store.session(sid)) return;
    if (failure) {
      const data: { message: string; data?: unknown } = { message: failure.message };
      if (failure.data !== undefined) data.data = failure.data;
      const payload = v4Protocol ? connectErrorDataV4(data) : data;
      this.engine.send(sid, encodePacket({ type: PacketType.CONNECT_ERROR, nsp: nspName, data: payload }));
      return;
    }

    const pid = v4Protocol || !this.recovery.enabled ? undefined : await this.recovery.pidOf(socket.id);
    const [authJson, dataJson] = [JSON.stringify(socket.handshake.auth), JSON.stringify(socket.data ?? {})];
    const stored = { id: socket.id, sid, nsp: nspName, auth: authJson, data: dataJson };
    // Taken over from another host: stored and in its rooms here before that host lets it go (recovery/hand-in.ts).
    const handedIn = resumed?.local === false ? await this.handIn.run(resumed, stored, authOf(auth).offset) : [];
    // From here to the CONNECT and missed packets of a resumed socket, no await: nothing sent in between is lost or reordered.
    const packets = resumed?.local ? this.recovery.takeLocal(resumed.socketId, authOf(auth).offset) : handedIn;
    if (!packets) return this.connectSocket(sid, record, namespace, nspName, { ...authOf(auth), pid: undefined });
    if (resumed?.local) this.store.rebindSocket(stored);
    else if (!resumed) this.store.insertSocket({ ...stored, connected_at: Date.now() });
    // The child's parent, so that a host rebuilt after an eviction can rebuild the child.
    if (namespace.parent) this.store.setMeta(childKey(nspName), namespace.parent.index);
    const releasedDeadline = resumed ? null : (this.store.session(sid)?.connect_deadline ?? null);
    this.store.clearConnectDeadline(sid);
    this.liveSockets.set(socket.id, socket);
    namespace.sockets.set(socket.id, socket);
    const connect = v4Protocol ? encodePacket(connectPacketV4(nspName)) : encodeConnectReply(nspName, { sid: socket.id, pid });
    let opened: (() => void) | undefined; // not a named closure per connect (keepNames wraps each)
    if (resumed) {
      // Its client may send events at once: they wait, as after an eviction, for the "connection" listeners.
      this.replays.set(socket.id, new Promise<void>((resolve) => (opened = resolve)));
      for (const frames of [connect, ...packets]) this.engine.send(sid, frames);
    }
    // Registered before the client hears "connected", so it misses no broadcast after that (a hand-in was already).
    if (resumed?.local !== false) await this.options.registerSocket(nspName, socket.id);
    // Taken over: its presence memberships, now that the other host left them (keyed by socket id).
    if (resumed?.local === false) await Promise.all(resumed.rooms.map((room) => this.rooms().rejoin(nspName, room, [socket.id])));
    if (!resumed) this.engine.send(sid, connect);
    await this.runConnectionListeners(socket).finally(() => {
      this.replays.delete(socket.id);
      opened?.();
    });
    await this.options.afterConnect(releasedDeadline);
  }

  /** Runs "connection" listeners; for a restored socket, as a replay without side effects. */
  private async runConnectionListeners(socket: Socket): Promise<void> {
    const namespace = this.namespaceOf(socket.nsp);
    if (namespace) await runConnectionListeners(namespace.connectionListeners, socket, (id, data) => this.store.saveSocketData(id, data));
  }

  // ── live sockets, rebuilt after eviction ───────────────────
  /** The namespace object for a name: declared, or a child rebuilt from its persisted parent. */
  private namespaceOf(name: string): Namespace | undefined {
    const declared = this.io.namespace(name);
    if (declared) return declared;
    const parentIndex = this.store.getMeta<number>(childKey(name));
    return parentIndex === null ? undefined : this.io.restoreChild(name, parentIndex);
  }

  /** The live Socket for (session, namespace), rebuilt from SQLite after an eviction. */
  private socketOf(sid: string, nsp: string): Socket | undefined {
    for (const socket of this.liveSockets.values()) {
      if (socket.sid === sid && socket.nsp === nsp) return socket;
    }
    const row = this.store.socketsOfSession(sid).find((candidate) => candidate.nsp === nsp);
    return row ? this.restoreSocket(row) : undefined;
  }

  private restoreSocket(row: SocketRow): Socket {
    const existing = this.liveSockets.get(row.id);
    if (existing) return existing;
    const session = this.store.session(row.sid)!;
    const socket = new Socket(this.runtime, {
      id: row.id,
      sid: row.sid,
      nsp: row.nsp,
      handshake: handshakeOf(session.handshake, JSON.parse(row.auth)),
      data: JSON.parse(row.data),
      rooms: this.store.roomsOf(row.id),
      restored: true,
    });
    this.liveSockets.set(socket.id, socket);
    this.namespaceOf(row.nsp)?.sockets.set(socket.id, socket);
    const replay = this.runConnectionListeners(socket).finally(() => this.replays.delete(socket.id));
    this.replays.set(socket.id, replay);
    return socket;
  }

  /** Disconnects one socket from its namespace: listeners, rooms, storage. */
  removeSocket(socketId: string, reason: DisconnectReason, notifyClient: boolean): Promise<void> {
    return this.exit.remove(socketId, reason, notifyClient);
  }

  /** Ends recovery windows that ran out (the host's alarm): rooms left, `recovery:expired` once each. */
  async expireRecoveries(now: number): Promise<void> {
    await Promise.all(this.recovery.expire(now).map((row) => this.exit.finalize(row.socket_id, "expired", row)));
  }

  /** A suspended socket's log overflowed: its recovery ends now. */
  endRecovery(socketId: string): Promise<void> {
    return this.exit.finalize(socketId, "overflow");
  }
}
