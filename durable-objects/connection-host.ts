/**
 * ConnectionHost: a Durable Object that owns Engine.IO sessions (hibernatable WebSockets and
 * long-polling queues), speaks Engine.IO v4 + Socket.IO v5, and runs the app's handlers for
 * its sockets. Session state lives in SQLite and WebSocket attachments, so eviction and
 * hibernation change nothing a client can see. One alarm drives pings, pong deadlines,
 * connect timeouts and ack timeouts for every session of the host.
 */
import { DurableObject } from "cloudflare:workers";
import { configFrom, type EdgeioConfig, type TransportName } from "./config";
import { BodyTooLargeError, readBoundedText } from "../protocol/bounded-body";
import { engineErrorResponse, EngineError } from "../protocol/engine-errors";
import { mintSid, mintSocketId } from "../protocol/ids";
import { ADDRESS_HEADER, HOST_HEADER, POLL_CHANNEL_HEADER } from "../protocol/internal-headers";
import { setAlarmAt } from "./alarm";
import { roomStub, type EdgeioBindings } from "./bindings";
import {
  decodePayload,
  decodeTextPacket,
  encodePayload,
  encodeText,
  pollingFrameToWebSocket,
  toPollingFrame,
  type EnginePacket,
  type WireFrame,
} from "../protocol/engine-codec";
import { SessionStore, type HandshakeRecord, type SocketRow } from "./engine/session-store";
import { clusterOf } from "./cluster/cluster";
import { Sequence } from "./cluster/sequence";
import type { HostReply } from "./cluster/types";
import { memberMetaOf, RoomJoinError } from "./presence/types";
import { createDecoder, encodePacket, PacketType, type Packet } from "../protocol/socketio-codec";
import { Server, type EdgeioApp, type MiddlewareError } from "./socketio/server";
import { privateRoomRefusal, userIdOf } from "./socketio/private-rooms";
import { Socket } from "./socketio/socket";
import type { DisconnectReason, Handshake, HostOp, HostRuntime } from "./socketio/types";

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
}

interface WebSocketAttachment {
  sid: string;
  /** An upgrade probe that has not sent "5" yet. */
  probing: boolean;
  /** The Worker's channel for one held long-polling GET (never carries client packets). */
  pollChannel?: boolean;
}

const pollTag = (sid: string) => `poll:${sid}`;

/** sessions.upgrading: a WebSocket is open for the session, and whether "2probe" was answered. */
const UPGRADE_OPENED = 1;
const UPGRADE_PROBED = 2;

const TEXT_PLAIN = { "Content-Type": "text/plain; charset=UTF-8" };

export function createConnectionHost(app: EdgeioApp) {
  return class ConnectionHost extends DurableObject<EdgeioBindings> implements HostRuntime, ConnectionHostApi {
    private readonly store: SessionStore;
    private readonly config: EdgeioConfig;
    private readonly io: Server;
    private readonly instanceId = crypto.randomUUID();
    private readonly decoders = new Map<string, ReturnType<typeof createDecoder>>();
    /** Socket objects live in this instance; rebuilt from SQLite after eviction. */
    private readonly liveSockets = new Map<string, Socket>();
    /** "connection" replays still running for restored sockets; their packets wait for them. */
    private readonly replays = new Map<string, Promise<void>>();
    private readonly deadlines = new Map<number, { at: number; fire: () => void }>();
    private nextDeadlineId = 0;
    /** Keeps broadcasts from this host in order (per sender, as Socket.IO does). */
    /** This host's fan-outs, in order (see cluster/sequence.ts). */
    private readonly fanoutChain = new Sequence();
    private scheduledAlarm: number | null | undefined;

    constructor(ctx: DurableObjectState, env: EdgeioBindings) {
      super(ctx, env);
      this.config = configFrom(env);
      this.store = new SessionStore(ctx.storage.sql);
      this.store.setMeta("constructions", (this.store.getMeta<number>("constructions") ?? 0) + 1);
      // A client's pong is answered by the runtime without waking this object; the
      // alarm reads the auto-response timestamp to tell live peers from dead ones.
      ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("3", "6"));
      this.io = new Server(this);
      app.setup(this.io, env as unknown as Record<string, unknown>);
    }

    get hostName(): string {
      return this.store.getMeta<string>("name") ?? "unknown:0";
    }

    private countWake(): void {
      this.store.setMeta("wakes", (this.store.getMeta<number>("wakes") ?? 0) + 1);
    }

    // ════════════════════════════ HTTP entry ════════════════════════════
    async fetch(request: Request): Promise<Response> {
      this.countWake();
      const host = request.headers.get(HOST_HEADER);
      if (host && this.store.getMeta("name") !== host) this.store.setMeta("name", host);
      const url = new URL(request.url);
      const sid = url.searchParams.get("sid");
      const transport = url.searchParams.get("transport") as TransportName;
      const isUpgrade = request.headers.get("Upgrade")?.toLowerCase() === "websocket";

      if (!sid) return this.handshake(request, url, transport, isUpgrade);

      const session = this.store.session(sid);
      if (!session) return engineErrorResponse(EngineError.UNKNOWN_SID);
      if (isUpgrade && !request.headers.has(POLL_CHANNEL_HEADER)) return this.upgrade(sid, session.transport, session.upgrading);
      if (transport !== "polling" || session.transport !== "polling") return engineErrorResponse(EngineError.BAD_REQUEST);
      if (request.method === "GET") return this.poll(sid, request);
      if (request.method === "POST") return this.receivePost(sid, request);
      return engineErrorResponse(EngineError.BAD_REQUEST);
    }

    private async handshake(request: Request, url: URL, transport: TransportName, isUpgrade: boolean): Promise<Response> {
      const now = Date.now();
      const sid = await mintSid(this.config.sidSecret, this.hostName);
      const headers: Record<string, string> = {};
      request.headers.forEach((value, key) => {
        if (key !== HOST_HEADER && key !== ADDRESS_HEADER) headers[key] = value;
      });
      const query: Record<string, string> = {};
      url.searchParams.forEach((value, key) => (query[key] = value));
      const record: HandshakeRecord = {
        headers,
        query,
        address: request.headers.get(ADDRESS_HEADER) ?? "127.0.0.1",
        time: new Date(now).toString(),
        issued: now,
        url: url.pathname + url.search,
        secure: url.protocol === "https:",
        xdomain: request.headers.has("origin"),
      };
      this.store.createSession(sid, transport, now, now + this.config.connectTimeout, record);
      const canUpgrade = transport === "polling" && this.config.transports.includes("websocket");
      const open = encodeText(
        "open",
        JSON.stringify({
          sid,
          upgrades: canUpgrade ? ["websocket"] : [],
          pingInterval: this.config.pingInterval,
          pingTimeout: this.config.pingTimeout,
          maxPayload: this.config.maxPayload,
        }),
      );
      await this.scheduleAlarm();

      if (transport === "websocket" && isUpgrade) {
        const [client, server] = Object.values(new WebSocketPair());
        this.ctx.acceptWebSocket(server, [sid]);
        server.serializeAttachment({ sid, probing: false } satisfies WebSocketAttachment);
        server.send(open);
        return new Response(null, { status: 101, webSocket: client });
      }
      return new Response(open, { headers: TEXT_PLAIN });
    }

    /** A WebSocket for an existing session: the polling → websocket upgrade. */
    private upgrade(sid: string, transport: TransportName, upgrading: number): Response {
      const [client, server] = Object.values(new WebSocketPair());
      if (transport !== "polling" || upgrading !== 0 || !this.config.transports.includes("websocket")) {
        // Socket.IO accepts then closes a second WebSocket for the same session.
        server.accept();
        server.close(1008, "session already upgraded");
        return new Response(null, { status: 101, webSocket: client });
      }
      this.ctx.acceptWebSocket(server, [sid]);
      server.serializeAttachment({ sid, probing: true } satisfies WebSocketAttachment);
      this.store.setUpgradeState(sid, UPGRADE_OPENED);
      return new Response(null, { status: 101, webSocket: client });
    }

    // ════════════════════════════ long-polling ════════════════════════════
    /**
     * A long-polling GET: answered at once when frames are queued, otherwise held. Held
     * polls arrive from the Worker as a WebSocket upgrade (POLL_CHANNEL_HEADER) and wait as
     * a hibernatable WebSocket; the first payload sent on it becomes the GET's response.
     */
    private poll(sid: string, request: Request): Response {
      if (this.pollChannel(sid)) {
        // Two GETs at once: Socket.IO closes the session ("overlap from client").
        this.closeSession(sid, "transport error");
        return new Response(null, { status: 400 });
      }
      const session = this.store.session(sid)!;
      const frames = this.store.drain(sid);
      // While a WebSocket probe succeeded, a noop lets the client pause polling and send "5".
      if (session.upgrading === UPGRADE_PROBED) frames.push(encodeText("noop"));
      if (frames.length > 0 || !request.headers.has(POLL_CHANNEL_HEADER)) {
        // Without a poll channel (a direct request) there is nothing to hold on: answer a noop.
        return this.pollResponse(sid, frames.length > 0 ? frames : [encodeText("noop")]);
      }
      const [client, server] = Object.values(new WebSocketPair());
      this.ctx.acceptWebSocket(server, [pollTag(sid)]);
      server.serializeAttachment({ sid, probing: false, pollChannel: true } satisfies WebSocketAttachment);
      return new Response(null, { status: 101, webSocket: client });
    }

    private pollChannel(sid: string): WebSocket | undefined {
      // An answered channel lingers in the list until its close handshake ends.
      return this.ctx.getWebSockets(pollTag(sid)).find((ws) => ws.readyState === WebSocket.OPEN);
    }

    private pollResponse(sid: string, frames: string[]): Response {
      // A closing session is gone once its last frames (ending with "1") are handed over.
      if (this.store.session(sid)?.closing) this.forgetSession(sid);
      return new Response(encodePayload(frames), { headers: TEXT_PLAIN });
    }

    /** Answers a held GET with whatever is queued (plus `extra`). */
    private flushPoll(sid: string, extra: string[] = []): void {
      const channel = this.pollChannel(sid);
      if (!channel) return;
      const frames = [...this.store.drain(sid), ...extra];
      if (frames.length === 0) return;
      channel.send(encodePayload(frames));
      channel.close(1000, "answered");
      if (this.store.session(sid)?.closing) this.forgetSession(sid);
    }

    private async receivePost(sid: string, request: Request): Promise<Response> {
      // Read while streaming: a body over maxPayload (chunked or not) is cancelled at the limit, never buffered whole.
      let body: string;
      try {
        body = await readBoundedText(request, this.config.maxPayload);
      } catch (error) {
        if (!(error instanceof BodyTooLargeError)) throw error;
        this.closeSession(sid, "transport error");
        return new Response(null, { status: 413 });
      }
      const packets = decodePayload(body);
      if (!packets) {
        this.closeSession(sid, "parse error");
        return engineErrorResponse(EngineError.BAD_REQUEST);
      }
      for (const packet of packets) {
        if (!this.store.session(sid)) break;
        this.onEnginePacket(sid, packet);
      }
      return new Response("ok", { headers: { "Content-Type": "text/html" } });
    }

    // ════════════════════════════ WebSocket ════════════════════════════
    async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
      this.countWake();
      const { sid, probing, pollChannel } = ws.deserializeAttachment() as WebSocketAttachment;
      const session = this.store.session(sid);
      if (!session || pollChannel) {
        ws.close(1000, "session closed");
        return;
      }
      const size = typeof message === "string" ? message.length : message.byteLength;
      if (size > this.config.maxPayload) {
        ws.close(1009, "message too big");
        this.closeSession(sid, "transport error");
        return;
      }
      if (probing) return this.onProbeMessage(ws, sid, message);

      const packet: EnginePacket | null =
        typeof message === "string" ? decodeTextPacket(message) : { type: "message", data: message };
      if (!packet) {
        this.closeSession(sid, "parse error");
        return;
      }
      this.onEnginePacket(sid, packet);
    }

    private onProbeMessage(ws: WebSocket, sid: string, message: string | ArrayBuffer): void {
      if (message === "2probe") {
        ws.send("3probe");
        this.store.setUpgradeState(sid, UPGRADE_PROBED);
        this.flushPoll(sid, [encodeText("noop")]);
        return;
      }
      if (message === "5") {
        const closing = this.store.session(sid)?.closing === 1;
        this.store.setTransport(sid, "websocket");
        ws.serializeAttachment({ sid, probing: false } satisfies WebSocketAttachment);
        for (const frame of this.store.drain(sid)) ws.send(pollingFrameToWebSocket(frame));
        this.flushPoll(sid, [encodeText("noop")]);
        if (closing) {
          // Closed while the client was switching: the queue just sent ends with "1".
          ws.close(1000, "closed");
          this.forgetSession(sid);
        }
        return;
      }
      // Anything else during the probe fails the upgrade; the session stays on polling.
      this.store.setUpgradeState(sid, 0);
      ws.close(1002, "invalid upgrade");
    }

    async webSocketClose(ws: WebSocket, code: number): Promise<void> {
      this.countWake();
      this.onWebSocketGone(ws, "transport close");
      try {
        ws.close(code === 1005 || code === 1006 ? 1000 : code, "closed");
      } catch {
        // already closed
      }
    }

    async webSocketError(ws: WebSocket): Promise<void> {
      this.countWake();
      this.onWebSocketGone(ws, "transport error");
    }

    private onWebSocketGone(ws: WebSocket, reason: DisconnectReason): void {
      const { sid, probing, pollChannel } = ws.deserializeAttachment() as WebSocketAttachment;
      const session = this.store.session(sid);
      if (!session || pollChannel) return;
      if (probing) this.store.setUpgradeState(sid, 0);
      else if (session.transport === "websocket") this.closeSession(sid, reason);
    }

    private activeWebSocket(sid: string): WebSocket | undefined {
      return this.ctx
        .getWebSockets(sid)
        .find((ws) => !(ws.deserializeAttachment() as WebSocketAttachment).probing);
    }

    // ════════════════════════════ Engine.IO packets ════════════════════════════
    private onEnginePacket(sid: string, packet: EnginePacket): void {
      switch (packet.type) {
        case "pong":
          this.store.recordPong(sid, Date.now());
          return;
        case "message":
          return this.onMessage(sid, packet.data ?? "");
        case "close":
          this.closeSession(sid, "transport close");
          // The client ended the session itself: it will not poll for a "1", the sid is gone now.
          this.forgetSession(sid);
          return;
        case "noop":
          return;
        default:
          // A v4 client never sends ping, open or upgrade on an established transport.
          this.closeSession(sid, "parse error");
      }
    }

    private onMessage(sid: string, data: string | ArrayBuffer): void {
      let decoder = this.decoders.get(sid);
      if (!decoder) {
        decoder = createDecoder((packet) => void this.onSocketPacket(sid, packet));
        this.decoders.set(sid, decoder);
      }
      try {
        decoder.add(data);
      } catch (error) {
        console.warn(`edgeio: malformed Socket.IO packet on session ${sid}: ${(error as Error).message}`);
        this.closeSession(sid, "parse error");
      }
    }

    // ════════════════════════════ Socket.IO packets ════════════════════════════
    private async onSocketPacket(sid: string, packet: Packet): Promise<void> {
      if (packet.type === PacketType.CONNECT) return this.connectNamespace(sid, packet.nsp, packet.data);
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
          this.closeSession(sid, "parse error");
      }
    }

    private ackSender(socket: Socket, id: number) {
      let sent = false;
      return (...args: unknown[]) => {
        if (sent || !socket.connected) return;
        sent = true;
        this.sendFrames(socket.sid, encodePacket({ type: PacketType.ACK, nsp: socket.nsp, id, data: args }));
      };
    }

    private async connectNamespace(sid: string, nspName: string, auth: unknown): Promise<void> {
      const namespace = this.io.namespace(nspName);
      if (!namespace) {
        this.sendFrames(sid, encodePacket({ type: PacketType.CONNECT_ERROR, nsp: nspName, data: { message: "Invalid namespace" } }));
        return;
      }
      const session = this.store.session(sid);
      if (!session) return;
      const socket = new Socket(this, {
        id: await mintSocketId(this.config.sidSecret, this.hostName),
        sid,
        nsp: nspName,
        handshake: this.handshakeOf(session.handshake, auth),
        data: {},
        rooms: [],
        restored: false,
      });

      const failure = await this.runMiddlewares(namespace.middlewares, socket);
      if (!this.store.session(sid)) return;
      if (failure) {
        const data: { message: string; data?: unknown } = { message: failure.message };
        if (failure.data !== undefined) data.data = failure.data;
        this.sendFrames(sid, encodePacket({ type: PacketType.CONNECT_ERROR, nsp: nspName, data }));
        return;
      }

      this.store.insertSocket({
        id: socket.id,
        sid,
        nsp: nspName,
        auth: JSON.stringify(socket.handshake.auth),
        data: JSON.stringify(socket.data ?? {}),
        connected_at: Date.now(),
      });
      this.store.clearConnectDeadline(sid);
      this.liveSockets.set(socket.id, socket);
      namespace.sockets.set(socket.id, socket);
      // Registered before the client hears "connected", so it misses no broadcast after that.
      await roomStub(this.env, nspName, null).join(socket.id, this.hostName);
      this.sendFrames(sid, encodePacket({ type: PacketType.CONNECT, nsp: nspName, data: { sid: socket.id } }));
      await this.runConnectionListeners(socket);
      await this.scheduleAlarm();
    }

    private runMiddlewares(middlewares: readonly ((socket: Socket, next: (e?: MiddlewareError) => void) => unknown)[], socket: Socket) {
      return (async (): Promise<MiddlewareError | undefined> => {
        for (const middleware of middlewares) {
          const error = await new Promise<MiddlewareError | undefined>((resolve) => {
            try {
              const result = middleware(socket, resolve);
              if (result instanceof Promise) result.catch((e: unknown) => resolve(asError(e)));
            } catch (e) {
              resolve(asError(e));
            }
          });
          if (error) return error;
        }
        return undefined;
      })();
    }

    /** Runs "connection" listeners; for a restored socket, as a replay without side effects. */
    private async runConnectionListeners(socket: Socket): Promise<void> {
      const namespace = this.io.namespace(socket.nsp);
      if (!namespace) return;
      const persisted = JSON.stringify(socket.data ?? {});
      await Promise.all(
        namespace.connectionListeners.map(async (listener) => {
          try {
            await listener(socket);
          } catch (error) {
            console.error(`edgeio: "connection" handler of ${socket.nsp} threw`, error);
          }
        }),
      );
      if (socket.restored) {
        socket.data = JSON.parse(persisted);
        socket.endReplay();
      } else if (JSON.stringify(socket.data ?? {}) !== persisted) {
        this.persistSocketData(socket.id, socket.data);
      }
    }

    private handshakeOf(stored: string, auth: unknown): Handshake {
      const record = JSON.parse(stored) as HandshakeRecord;
      return { ...record, auth: auth && typeof auth === "object" ? (auth as Record<string, unknown>) : {} };
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
      const socket = new Socket(this, {
        id: row.id,
        sid: row.sid,
        nsp: row.nsp,
        handshake: this.handshakeOf(session.handshake, JSON.parse(row.auth)),
        data: JSON.parse(row.data),
        rooms: this.store.roomsOf(row.id),
        restored: true,
      });
      this.liveSockets.set(socket.id, socket);
      this.io.namespace(row.nsp)?.sockets.set(socket.id, socket);
      const replay = this.runConnectionListeners(socket).finally(() => this.replays.delete(socket.id));
      this.replays.set(socket.id, replay);
      return socket;
    }

    /** Disconnects one socket from its namespace: listeners, rooms, storage. */
    private async removeSocket(socketId: string, reason: DisconnectReason, notifyClient: boolean): Promise<void> {
      const row = this.store.socket(socketId);
      if (!row) return;
      const socket = this.restoreSocket(row);
      const rooms = this.store.roomsOf(socketId);
      if (notifyClient) this.sendFrames(row.sid, encodePacket({ type: PacketType.DISCONNECT, nsp: row.nsp }));
      this.store.deleteSocket(socketId);
      this.liveSockets.delete(socketId);
      this.io.namespace(row.nsp)?.sockets.delete(socketId);
      await socket.close(reason);
      await this.leaveRooms(row.nsp, socketId, [...rooms, null]);
    }

    private async leaveRooms(nsp: string, socketId: string, rooms: Array<string | null>): Promise<void> {
      await Promise.all(
        rooms
          .filter((room) => room !== socketId)
          .map((room) =>
            roomStub(this.env, nsp, room)
              .leave(socketId)
              .catch((error: unknown) => console.error(`edgeio: leaving room ${room} failed`, error)),
          ),
      );
    }

    // ════════════════════════════ sessions ════════════════════════════
    /** Ends a whole Engine.IO session: every socket on it, then the transport. */
    closeSession(sid: string, reason: DisconnectReason): void {
      const session = this.store.session(sid);
      if (!session || session.closing) return;
      // Like Socket.IO's disconnect(true): each namespace hears 41 first, so the client knows
      // the server ended it ("io server disconnect") and does not reconnect.
      if (reason === "server namespace disconnect") {
        for (const row of this.store.socketsOfSession(sid)) this.sendFrames(sid, encodePacket({ type: PacketType.DISCONNECT, nsp: row.nsp }));
      }
      this.store.markClosing(sid);
      for (const row of this.store.socketsOfSession(sid)) void this.removeSocket(row.id, reason, false);
      this.decoders.delete(sid);

      if (session.transport === "websocket") {
        for (const ws of this.ctx.getWebSockets(sid)) {
          try {
            ws.close(1000, reason);
          } catch {
            // already closed
          }
        }
        this.forgetSession(sid);
        return;
      }
      // A probe that answered "3probe" stays open: the client may be pausing its polling for it,
      // and engine.io-client leaves polling paused for good when such a probe fails. Its "5" is
      // answered with the close instead (onProbeMessage). An earlier probe can simply go.
      if (session.upgrading !== UPGRADE_PROBED) {
        for (const ws of this.ctx.getWebSockets(sid)) ws.close(1000, reason);
      }
      // Polling: the client learns of the close through a "1" on its next (or held) GET.
      this.store.enqueue(sid, [encodeText("close")]);
      this.flushPoll(sid);
    }

    private forgetSession(sid: string): void {
      this.store.deleteSession(sid);
      this.decoders.delete(sid);
      for (const ws of [...this.ctx.getWebSockets(pollTag(sid)), ...this.ctx.getWebSockets(sid)]) {
        if (ws.readyState === WebSocket.OPEN) ws.close(1000, "session closed");
      }
    }

    transportOf(sid: string): string {
      return this.store.session(sid)?.transport ?? "polling";
    }

    sendFrames(sid: string, frames: WireFrame[]): void {
      const session = this.store.session(sid);
      if (!session || session.closing) return;
      if (session.transport === "websocket") {
        const ws = this.activeWebSocket(sid);
        if (ws) for (const frame of frames) ws.send(frame);
        return;
      }
      this.store.enqueue(sid, frames.map(toPollingFrame));
      this.flushPoll(sid);
    }

    // ════════════════════════════ rooms and fan-out ════════════════════════════
    async join(socketId: string, rooms: string[]): Promise<void> {
      const row = this.store.socket(socketId);
      if (!row) return;
      // Private rooms are refused here too, for joins that do not pass through Socket.join (socketsJoin).
      const joiner = { id: socketId, userId: userIdOf(this.liveSockets.get(socketId)?.data ?? JSON.parse(row.data)) };
      const added = rooms.filter((room) => privateRoomRefusal(joiner, room) === null && this.store.addRoom(socketId, room));
      for (const room of added) this.liveSockets.get(socketId)?.rooms.add(room);
      // RoomDOs learn the socket's user and device (socket.data.user / socket.data.presence) for presence.
      const meta = memberMetaOf(this.liveSockets.get(socketId)?.data ?? JSON.parse(row.data));
      const results = await Promise.all(
        added
          .filter((room) => room !== socketId)
          .map(async (room) => ({ room, result: await roomStub(this.env, row.nsp, room).join(socketId, this.hostName, meta, { nsp: row.nsp, room }) })),
      );
      const refused = results.filter((entry) => !entry.result.ok);
      if (refused.length === 0) return;
      // A room that refused (full, oversize state) is not joined: undo it here and tell the caller why.
      for (const { room } of refused) {
        this.store.removeRoom(socketId, room);
        this.liveSockets.get(socketId)?.rooms.delete(room);
      }
      const { result } = refused[0];
      throw new RoomJoinError(result.ok ? "room_full" : result.error, result.ok ? "refused" : result.message);
    }

    async leave(socketId: string, rooms: string[]): Promise<void> {
      const row = this.store.socket(socketId);
      if (!row) return;
      const removed = rooms.filter((room) => this.store.removeRoom(socketId, room));
      for (const room of removed) this.liveSockets.get(socketId)?.rooms.delete(room);
      await this.leaveRooms(row.nsp, socketId, removed);
    }

    fanout(op: HostOp): Promise<void> {
      const local = { name: this.hostName, apply: (o: HostOp) => this.apply(o) };
      return this.fanoutChain.run(() => clusterOf(this.env).apply(op, { local })).then(
        () => undefined,
        (error: unknown) => {
          console.error("edgeio: fan-out failed", error);
          throw error;
        },
      );
    }

    /** RPC: applies an operation to this host's matching sockets; says how many matched. */
    async apply(op: HostOp): Promise<HostReply> {
      const { nsp, rooms, except } = op.target;
      const selected = this.store.select(nsp, rooms, except);
      switch (op.kind) {
        case "emit":
          for (const socket of selected) this.sendFrames(socket.sid, op.frames);
          break;
        case "join":
          await Promise.all(selected.map((socket) => this.join(socket.id, op.rooms)));
          break;
        case "leave":
          await Promise.all(selected.map((socket) => this.leave(socket.id, op.rooms)));
          break;
        case "disconnect":
          for (const socket of selected) {
            if (op.close) this.closeSession(socket.sid, "server namespace disconnect");
            else this.disconnectSocket(socket.id, "server namespace disconnect", true);
          }
          break;
      }
      return { matched: selected.length };
    }

    disconnectSocket(socketId: string, reason: DisconnectReason, notifyClient: boolean): void {
      void this.removeSocket(socketId, reason, notifyClient);
    }

    persistSocketData(socketId: string, data: unknown): void {
      this.store.saveSocketData(socketId, JSON.stringify(data ?? {}));
    }

    // ════════════════════════════ the alarm ════════════════════════════
    scheduleDeadline(deadline: number, fire: () => void): () => void {
      const id = this.nextDeadlineId++;
      this.deadlines.set(id, { at: deadline, fire });
      void this.scheduleAlarm();
      return () => this.deadlines.delete(id);
    }

    async alarm(): Promise<void> {
      this.countWake();
      this.store.setMeta("alarms", (this.store.getMeta<number>("alarms") ?? 0) + 1);
      this.scheduledAlarm = null;
      const now = Date.now();
      try {
        this.checkPongs(now);
        this.sendPingsIfDue(now);
        for (const sid of this.store.sessionsPastConnectDeadline(now)) this.closeSession(sid, "transport close");
        for (const [id, deadline] of this.deadlines) {
          if (deadline.at > now) continue;
          this.deadlines.delete(id);
          try {
            deadline.fire();
          } catch (error) {
            console.error("edgeio: deadline callback threw", error);
          }
        }
      } finally {
        await this.scheduleAlarm();
      }
    }

    /** pingTimeout after a ping: every session pinged then must have answered since. */
    private checkPongs(now: number): void {
      const lastPing = this.store.getMeta<number>("last_ping_at");
      if (!lastPing || this.store.getMeta<number>("pongs_checked") || now < lastPing + this.config.pingTimeout) return;
      for (const session of this.store.sessions()) {
        if (session.closing || session.created_at > lastPing) continue;
        let lastPong = session.last_pong_at;
        if (session.transport === "websocket") {
          const ws = this.activeWebSocket(session.sid);
          const auto = ws ? this.ctx.getWebSocketAutoResponseTimestamp(ws) : null;
          if (auto) lastPong = Math.max(lastPong, auto.getTime());
        }
        if (lastPong < lastPing) this.closeSession(session.sid, "ping timeout");
      }
      this.store.setMeta("pongs_checked", 1);
    }

    private sendPingsIfDue(now: number): void {
      const nextPing = this.store.getMeta<number>("next_ping_at");
      if (nextPing === null || now < nextPing) return;
      for (const session of this.store.sessions()) {
        if (session.closing) {
          // A polling session closed without a GET to hear it: give it one interval, then drop it.
          // (A probe that answered "3probe" keeps it until its "5" comes or the probe closes.)
          const probeOpen = session.upgrading === UPGRADE_PROBED && this.ctx.getWebSockets(session.sid).length > 0;
          if (!this.pollChannel(session.sid) && !probeOpen) this.forgetSession(session.sid);
          continue;
        }
        if (session.transport === "websocket") this.activeWebSocket(session.sid)?.send(encodeText("ping"));
        else {
          this.store.enqueue(session.sid, [encodeText("ping")]);
          this.flushPoll(session.sid);
        }
      }
      this.store.setMeta("last_ping_at", now);
      this.store.setMeta("pongs_checked", 0);
      this.store.setMeta("next_ping_at", now + this.config.pingInterval);
    }

    /** One alarm for everything: the earliest of next ping, pong deadline, connect and ack deadlines. */
    private async scheduleAlarm(): Promise<void> {
      const now = Date.now();
      const candidates: number[] = [];
      if (this.store.sessionCount() > 0) {
        let nextPing = this.store.getMeta<number>("next_ping_at");
        if (nextPing === null) {
          nextPing = now + this.config.pingInterval;
          this.store.setMeta("next_ping_at", nextPing);
        }
        candidates.push(nextPing);
        const lastPing = this.store.getMeta<number>("last_ping_at");
        if (lastPing && !this.store.getMeta<number>("pongs_checked")) candidates.push(lastPing + this.config.pingTimeout);
        const connectDeadline = this.store.earliestConnectDeadline();
        if (connectDeadline !== null) candidates.push(connectDeadline);
      } else {
        this.store.setMeta("next_ping_at", null);
      }
      for (const deadline of this.deadlines.values()) candidates.push(deadline.at);
      const next = candidates.length > 0 ? Math.min(...candidates) : null;
      if (this.scheduledAlarm === undefined) this.scheduledAlarm = await this.ctx.storage.getAlarm();
      const current = this.scheduledAlarm;
      this.scheduledAlarm = next;
      await setAlarmAt(this.ctx.storage, next, current);
    }

    aliveSockets(socketIds: string[]): string[] {
      return socketIds.filter((id) => {
        const row = this.store.socket(id);
        return row !== null && this.store.session(row.sid)?.closing === 0;
      });
    }

    // ════════════════════════════ observability ════════════════════════════
    stats(): HostStats {
      return {
        host: this.store.getMeta<string>("name"),
        instanceId: this.instanceId,
        constructions: this.store.getMeta<number>("constructions") ?? 0,
        wakes: this.store.getMeta<number>("wakes") ?? 0,
        alarms: this.store.getMeta<number>("alarms") ?? 0,
        sessions: this.store.sessionCount(),
        sockets: this.ctx.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sockets").one().n,
        webSockets: this.ctx.getWebSockets().length,
      };
    }
  };
}

function asError(value: unknown): MiddlewareError {
  return value instanceof Error ? value : new Error(String(value));
}
