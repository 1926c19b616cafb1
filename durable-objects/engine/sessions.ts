/**
 * Engine.IO sessions of one ConnectionHost: the handshake, routing a verified request to its
 * transport, incoming Engine.IO packets, sending, and closing. What a session carries
 * (Socket.IO packets) goes up to the EngineListener; nothing here knows about namespaces.
 */
import type { EdgeioConfig, TransportName } from "../config";
import { encodeText, type EnginePacket, type WireFrame } from "../../protocol/engine-codec";
import { mintSession } from "../../protocol/ids";
import { ADDRESS_HEADER, INTERNAL_PREFIX } from "../../protocol/internal-headers";
import { LIMIT_CLOSE_CODE, LIMIT_MESSAGES, PacketRateLimiter, type LimitName } from "./limits";
import { PollChannels } from "./poll-channels";
import { PollingTransport } from "./polling";
import type { HostStore } from "../host-store";
import {
  type CloseFrame,
  type CloseReason,
  type EngineListener,
  type HandshakeRecord,
  type PendingSession,
  type SessionControl,
  TEXT_PLAIN,
  type WebSocketAttachment,
} from "./types";
import { verifySessionRequest } from "./verify";
import { WebSocketTransport } from "./websocket";
import { routeOf } from "./attachment-routes";
import { engineErrorResponse } from "../../protocol/engine-errors";
import { type Framing, framingOf } from "./framing";
import { fitsAttachment } from "../session-rows";

export class EngineSessions implements SessionControl {
  readonly polling: PollingTransport;
  readonly websocket: WebSocketTransport;
  private readonly packetRate: PacketRateLimiter;
  private listener: EngineListener | null = null;
  private orphansChecked = false;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly store: HostStore,
    private readonly config: EdgeioConfig,
    private readonly hostName: () => string,
  ) {
    this.packetRate = new PacketRateLimiter(config.limits.packetRatePerSecond, config.limits.packetRateBurst);
    const framing = () => this.framing;
    this.polling = new PollingTransport(store, config, new PollChannels(ctx, store, framing), this.packetRate, this, framing);
    this.websocket = new WebSocketTransport(ctx, store, config, this.packetRate, this, this.polling, framing);
    // Kept-back sockets live in attachments until written: lookups that may name one rebuild them first (host-store.ts).
    store.restoreAllPending = () => this.closeOrphans();
  }

  /** Engine.IO v3 or v4 framing: a host serves one version, named by its pool (see framing.ts). */
  get framing(): Framing {
    return framingOf(this.hostName());
  }

  /** The layer above (set once, by the host that wires the layers together). */
  listen(listener: EngineListener): void {
    this.listener = listener;
  }

  // ── requests ───────────────────────────────────────────────
  /** A new session: stores its handshake and answers the open packet on its transport. */
  async handshake(request: Request, url: URL, transport: TransportName, isUpgrade: boolean): Promise<Response> {
    const now = Date.now();
    // One HMAC for the sid and the id of the session's first socket (its CONNECT mints none).
    const { sid, socketId } = await mintSession(this.config.sidSecret, this.hostName());
    const headers: Record<string, string> = {};
    let edgeAddress: string | undefined;
    // Internal headers are the edge's (a client's never get this far with one the host reads: worker/engine-route.ts).
    // One pass over the headers: the address and the origin are read from it, not asked of the request again.
    request.headers.forEach((value, key) => {
      if (!key.startsWith(INTERNAL_PREFIX)) headers[key] = value;
      else if (key === ADDRESS_HEADER) edgeAddress = value;
    });
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => {
      query[key] = value;
    });
    const record: HandshakeRecord = {
      headers,
      query,
      // The edge's, or the client's request as the edge forwarded it (Cloudflare sets cf-connecting-ip).
      address: edgeAddress ?? headers["cf-connecting-ip"] ?? "127.0.0.1",
      time: new Date(now).toString(),
      issued: now,
      url: url.pathname + url.search,
      secure: url.protocol === "https:",
      xdomain: headers.origin !== undefined,
    };
    // Opened directly over WebSocket: no write at the handshake; the row is written with the
    // CONNECT's (one commit per connect) and kept till then in the WebSocket's attachment, which
    // survives an eviction. A handshake too big for an attachment is written now (host-store.ts).
    const direct = transport === "websocket" && isUpgrade;
    const handshake = JSON.stringify(record);
    const connectDeadline = now + this.config.connectTimeout;
    const pending: PendingSession | undefined =
      direct && fitsAttachment(handshake) ? { createdAt: now, connectDeadline, handshake } : undefined;
    this.store.createSession(sid, transport, now, connectDeadline, handshake, !pending);
    const canUpgrade = transport === "polling" && this.config.transports.includes("websocket");
    const open = this.openPacket(sid, canUpgrade);
    const response = direct
      ? this.websocket.open(sid, open, pending)
      : new Response(this.framing.version === 3 ? this.framing.encodePayload([open]) : open, { headers: TEXT_PLAIN });
    this.listener?.onOpen(sid, record, socketId);
    return response;
  }

  /** The open packets' JSON after the sid, with and without the upgrade (the same for every session of a host). */
  private openTails: [string, string] | null = null;

  /**
   * `0{"sid":…,"upgrades":…,"pingInterval":…,"pingTimeout":…,"maxPayload":…}`, byte for byte what
   * JSON.stringify of that object gives: the part after the sid (JSON-safe: base64url and dots)
   * is built once, not an object and its JSON per handshake.
   */
  private openPacket(sid: string, canUpgrade: boolean): string {
    if (!this.openTails) {
      const { pingInterval, pingTimeout, maxPayload } = this.config;
      const tail = (upgrades: string[]) => JSON.stringify({ sid: "", upgrades, pingInterval, pingTimeout, maxPayload }).slice(9);
      this.openTails = [tail([]), tail(["websocket"])];
    }
    return encodeText("open", `{"sid":"${sid}"${this.openTails[canUpgrade ? 1 : 0]}`);
  }

  /** A request of an existing session, after the session-level rules of verify.ts. */
  async route(request: Request, sid: string, transport: TransportName | null, isUpgrade: boolean, pollChannel: boolean): Promise<Response> {
    const session = this.store.session(sid);
    const verdict = verifySessionRequest({ session, transport, method: request.method, isUpgrade, pollChannel });
    switch (verdict.kind) {
      case "error":
        return engineErrorResponse(verdict.error);
      case "upgrade":
        return this.websocket.upgrade(sid, session!.transport, session!.upgrading);
      case "poll":
        return this.polling.poll(sid, request);
      case "post":
        return this.polling.receive(sid, request);
    }
  }

  // ── WebSocket events (client sockets and poll channels) ──
  webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    const { sid, probing, pollChannel } = routeOf(ws);
    // A poll channel carries nothing from the Worker: it confirms by its close code.
    if (!pollChannel) this.websocket.onMessage(ws, sid, probing, message);
  }

  /** `code`: the peer's close code (a poll channel's confirmation), absent on an error. */
  webSocketGone(ws: WebSocket, reason: CloseReason, code = 1006): void {
    // A poll channel this instance opened is known without reading its attachment.
    if (this.polling.isKnownChannel(ws)) {
      this.polling.onChannelClose(ws, code);
      return;
    }
    const { sid, probing, pollChannel } = routeOf(ws);
    if (pollChannel) this.polling.onChannelClose(ws, code);
    else this.websocket.onGone(sid, probing, reason);
  }

  // ── packets ────────────────────────────────────────────────
  onPacket(sid: string, packet: EnginePacket): void {
    switch (packet.type) {
      case "pong":
        // v3 heartbeats go the other way: a pong from a v3 client is a fault (as engine.io has it).
        if (this.framing.version === 3) this.fail(sid, "transport error");
        else this.store.recordPong(sid, Date.now());
        return;
      case "ping":
        if (this.framing.version !== 3) break;
        // A v3 client's ping (over polling, or with data: plain "2" on a WebSocket is answered
        // by the runtime's auto-response). Its time is what the v3 heartbeat checks.
        this.store.recordPong(sid, Date.now());
        this.transmit(sid, [encodeText("pong", typeof packet.data === "string" ? packet.data : "")]);
        return;
      case "message":
        this.store.countMessages("in", 1);
        this.listener?.onMessage(sid, packet.data ?? "");
        return;
      case "close":
        // The client ended the session itself (engine.io: a held GET gets a noop, not "1"): it
        // will not poll for a "1", so the sid is forgotten now and a held GET answered "6".
        if (this.end(sid, "transport close", false)) this.forget(sid);
        return;
      case "noop":
        return;
    }
    // A v4 client never sends ping, open or upgrade on an established transport (nor v3 open/upgrade).
    this.fail(sid, "parse error");
  }

  /**
   * Sends message frames to a session on whichever transport it is on now (counted for the load
   * report). Whether they went out (or were queued): false when the session is gone or closing.
   */
  send(sid: string, frames: WireFrame[], volatile = false): boolean {
    const sent = this.transmit(sid, frames, volatile);
    if (sent) this.store.countMessages("out", frames.length);
    return sent;
  }

  /** Whether the frames went out (or were queued) on the session's transport. */
  private transmit(sid: string, frames: WireFrame[], volatile = false): boolean {
    const session = this.store.session(sid);
    if (!session || session.closing) return false;
    const result =
      session.transport === "websocket" ? this.websocket.send(sid, frames, volatile) : this.polling.send(sid, frames, volatile);
    if (result === "dropped") this.store.bumpMeta("volatile_dropped");
    // Its WebSocket is gone and the host was never told (the object restarted, as on a deploy or
    // a `wrangler dev` reload): the connection dropped, so the session ends as a transport close
    // (its sockets are suspended when recoverable) instead of losing what is sent to it.
    if (result === "gone") this.fail(sid, "transport close");
    return result === "sent";
  }

  transportOf(sid: string): TransportName {
    return this.store.session(sid)?.transport ?? "polling";
  }

  // ── closing ────────────────────────────────────────────────
  /**
   * A graceful close (the app's disconnect(true), a namespace disconnect, a connect timeout, a
   * limit): like engine.io's socket.close(), what is queued is still delivered, then "1".
   */
  close(sid: string, reason: CloseReason, frame: CloseFrame = { code: 1000, reason }): void {
    // A WebSocket session is forgotten in this turn; a polling one stays, closing, until its "1" is delivered.
    const polling = this.store.session(sid)?.transport === "polling";
    const session = this.end(sid, reason, polling);
    if (!session) return;
    if (session.transport === "websocket") {
      this.websocket.closeAll(sid, frame);
      this.forget(sid);
      return;
    }
    // A probe that answered "3probe" stays open: the client may be pausing its polling for it,
    // and engine.io-client leaves polling paused for good when such a probe fails. Its "5" is
    // answered with the close instead (websocket.ts). An earlier probe can simply go.
    this.websocket.closeUnansweredProbes(sid, reason);
    // Polling: the queue and then "1" on the held GET, or on the next one.
    this.polling.enqueue(sid, "close");
  }

  /**
   * A fault (ping timeout, transport error, undecodable input): like engine.io's onClose(), the
   * session is forgotten at once and whatever was queued is dropped. A held GET hears "1"; with
   * none held, the next request gets 400 code 1.
   */
  fail(sid: string, reason: CloseReason, frame: CloseFrame = { code: 1000, reason }): void {
    const session = this.end(sid, reason, false);
    if (!session) return;
    if (session.transport === "websocket") this.websocket.closeAll(sid, frame);
    else {
      this.store.clearQueue(sid);
      // Sent on a held GET's channel; forget() then closes the channel, which answers the GET with it.
      this.polling.flush(sid, [encodeText("close")]);
    }
    this.forget(sid);
  }

  /**
   * Marks a session closing and ends its sockets; null when it was gone or closing already.
   * `persist: false` when the caller forgets the session in this same turn: the mark is not
   * written then (the delete is). Should ending its sockets throw, the mark is written after all,
   * so that a session left behind is still known to be closing.
   */
  private end(sid: string, reason: CloseReason, persist: boolean) {
    const session = this.store.session(sid);
    if (!session || session.closing) return null;
    const now = Date.now();
    this.store.markClosing(sid, now, persist);
    try {
      this.listener?.onClose(sid, reason);
    } catch (error) {
      if (!persist) this.store.persistClosing(sid);
      throw error;
    }
    return session;
  }

  /**
   * Closes one session for exceeding a limit: WebSocket close 1008 with the reason, polling
   * a "1" on its next GET (the offending POST itself is answered with the error). Counted in stats.
   */
  closeForLimit(sid: string, limit: LimitName): void {
    const session = this.store.session(sid);
    if (!session || session.closing) return;
    console.warn(`edgeio: closing session ${sid}: ${LIMIT_MESSAGES[limit]}`);
    this.store.bumpMeta(`closed_for:${limit}`);
    // A slow consumer's backlog is dropped, not kept: the close must not wait behind it.
    if (limit === "queued_frames" || limit === "queued_bytes") this.store.clearQueue(sid);
    this.close(sid, "forced server close", { code: LIMIT_CLOSE_CODE, reason: LIMIT_MESSAGES[limit] });
  }

  /**
   * Once per instance, first thing in the alarm (or before a lookup that may name a kept-back socket): rebuilds the pending sessions of direct
   * WebSockets from their attachments (evicted before their CONNECT: host-store.ts), so their
   * connect deadline and pings go on, and closes the WebSockets whose session is unknown and
   * carry none, which nothing would ping or expire. One pass over the host's WebSockets.
   */
  closeOrphans(): void {
    if (this.orphansChecked) return;
    this.orphansChecked = true;
    this.store.sessions(); // every session in memory: the lookups below read no SQL
    for (const ws of this.ctx.getWebSockets()) {
      const attachment = ws.deserializeAttachment() as WebSocketAttachment;
      if (attachment.pollChannel || ws.readyState !== WebSocket.OPEN || this.store.session(attachment.sid)) continue;
      if (attachment.pending) this.websocket.restore(attachment);
      else ws.close(1000, "session closed");
    }
  }

  forget(sid: string): void {
    this.store.deleteSession(sid);
    this.listener?.onForget(sid);
    this.packetRate.forget(sid);
    this.polling.forget(sid);
    for (const ws of this.ctx.getWebSockets(sid)) {
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, "session closed");
    }
  }
}
