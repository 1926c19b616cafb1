/**
 * The WebSocket transport of a ConnectionHost: sessions opened over WebSocket, the
 * polling → websocket upgrade with its probe, incoming frames, and sending. Every socket is a
 * hibernatable WebSocket tagged with its sid, so the host may sleep between frames.
 */
import type { EdgeioConfig, TransportName } from "../config";
import { encodeText, type WireFrame } from "../../protocol/engine-codec";
import { attach, routeOf } from "./attachment-routes";
import { type Framing, storedFrameToWebSocket } from "./framing";
import { bufferedAmountOf, packetCost, type PacketRateLimiter, VOLATILE_WS_BUFFERED_BYTES } from "./limits";
import type { PollingTransport } from "./polling";
import type { HostStore } from "../host-store";
import { pendingSessionRow, type SessionRow } from "../session-rows";
import {
  type CloseFrame,
  type CloseReason,
  type PendingSession,
  type SessionControl,
  UPGRADE_NONE,
  UPGRADE_OPENED,
  UPGRADE_PROBED,
  type WebSocketAttachment,
} from "./types";

export class WebSocketTransport {
  /**
   * Each session's active WebSocket as last found (in memory; rebuilt lazily after a wake): a
   * broadcast sends to many sessions, and a tag lookup plus an attachment read per recipient
   * cost more than the send. An entry is trusted only while its socket is open.
   */
  private readonly activeBySid = new Map<string, WebSocket>();
  /** Size at which entries of closed sockets are swept (sessions can end by paths that never ask again). */
  private sweepAt = 1024;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly store: HostStore,
    private readonly config: EdgeioConfig,
    private readonly packetRate: PacketRateLimiter,
    private readonly sessions: SessionControl,
    private readonly polling: PollingTransport,
    private readonly framing: () => Framing,
  ) {
    store.attachPending = (sid, pending) => this.attachPending(sid, pending);
  }

  /** A pending session's new state (its kept-back sockets) into its WebSocket's attachment; false: no socket or too big. */
  private attachPending(sid: string, pending: PendingSession): boolean {
    const ws = this.active(sid);
    if (ws?.readyState !== WebSocket.OPEN) return false;
    try {
      attach(ws, { sid, probing: false, pending });
      return true;
    } catch {
      return false; // over the runtime's limit after all: the caller writes the rows
    }
  }

  /**
   * A session opened directly over WebSocket: the open packet is its first frame. `pending`: its
   * row is not written yet; the attachment keeps it across hibernation and eviction (restore).
   */
  open(sid: string, openPacket: string, pending?: PendingSession): Response {
    const pair = new WebSocketPair(); // its two ends read directly: no array of its values built
    const client = pair[0];
    const server = pair[1];
    this.ctx.acceptWebSocket(server, [sid]);
    try {
      attach(server, pending ? { sid, probing: false, pending } : { sid, probing: false });
    } catch (error) {
      if (!pending) throw error;
      // Over the attachment limit after all (fitsAttachment is an estimate): the row is written now.
      this.store.persistSession(sid);
      attach(server, { sid, probing: false });
    }
    server.send(openPacket);
    // Its CONNECT puts the socket in this attachment and sends the reply here: no lookup by tag then.
    this.remember(sid, server);
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * A direct WebSocket session evicted before its CONNECT wrote its row: rebuilt, pending, from
   * the attachment (null: the attachment has none, the session is gone).
   */
  restore(attachment: WebSocketAttachment): SessionRow | null {
    const { pending } = attachment;
    return pending ? this.store.restorePendingSession(pendingSessionRow(attachment.sid, pending), pending.sockets) : null;
  }

  /** A WebSocket for an existing session: the polling → websocket upgrade. */
  upgrade(sid: string, transport: TransportName, upgrading: number): Response {
    const [client, server] = Object.values(new WebSocketPair());
    if (transport !== "polling" || upgrading !== UPGRADE_NONE || !this.config.transports.includes("websocket")) {
      // Socket.IO accepts then closes a second WebSocket for the same session.
      server.accept();
      server.close(1008, "session already upgraded");
      return new Response(null, { status: 101, webSocket: client });
    }
    this.ctx.acceptWebSocket(server, [sid]);
    attach(server, { sid, probing: true });
    this.store.setUpgradeState(sid, UPGRADE_OPENED);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** The session's WebSocket once upgraded (not a probe still in progress). */
  active(sid: string): WebSocket | undefined {
    const cached = this.activeBySid.get(sid);
    if (cached?.readyState === WebSocket.OPEN) return cached;
    const ws = this.ctx.getWebSockets(sid).find((ws) => !routeOf(ws).probing);
    if (ws?.readyState === WebSocket.OPEN) this.remember(sid, ws);
    else this.activeBySid.delete(sid);
    return ws;
  }

  private remember(sid: string, ws: WebSocket): void {
    this.activeBySid.set(sid, ws);
    if (this.activeBySid.size < this.sweepAt) return;
    for (const [key, socket] of this.activeBySid) if (socket.readyState !== WebSocket.OPEN) this.activeBySid.delete(key);
    this.sweepAt = Math.max(1024, this.activeBySid.size * 2);
  }

  /** A probe that answered "3probe" is still open (the client may be pausing its polling for it). */
  probeOpen(sid: string): boolean {
    return this.store.session(sid)?.upgrading === UPGRADE_PROBED && this.ctx.getWebSockets(sid).length > 0;
  }

  /** A client frame on a session WebSocket (poll channels are the polling transport's). */
  onMessage(ws: WebSocket, sid: string, probing: boolean, message: string | ArrayBuffer): void {
    // Frames the client sent before it saw our close still arrive. A socket the host has closed
    // carries nothing more: a failed probe's "5" must not upgrade the session onto it.
    if (ws.readyState !== WebSocket.OPEN) return;
    const session = this.store.session(sid) ?? this.restore(ws.deserializeAttachment() as WebSocketAttachment);
    if (!session) {
      ws.close(1000, "session closed");
      return;
    }
    const size = typeof message === "string" ? message.length : message.byteLength;
    if (size > this.config.maxPayload) {
      ws.close(1009, "message too big");
      this.sessions.fail(sid, "transport error");
      return;
    }
    if (!this.packetRate.take(sid, packetCost(size))) {
      this.sessions.closeForLimit(sid, "packet_rate");
      return;
    }
    if (probing) {
      this.onProbeMessage(ws, sid, message);
      return;
    }

    const packet = this.framing().decodeWebSocket(message);
    if (!packet) {
      this.sessions.fail(sid, "parse error");
      return;
    }
    this.sessions.onPacket(sid, packet);
  }

  private onProbeMessage(ws: WebSocket, sid: string, message: string | ArrayBuffer): void {
    if (message === "2probe") {
      ws.send("3probe");
      this.store.setUpgradeState(sid, UPGRADE_PROBED);
      this.polling.flush(sid, [encodeText("noop")]);
      return;
    }
    if (message === "5") {
      const closing = (this.store.session(sid)?.closing ?? 0) !== 0;
      this.store.setTransport(sid, "websocket");
      attach(ws, { sid, probing: false });
      for (const frame of this.store.drain(sid)) ws.send(storedFrameToWebSocket(this.framing(), frame));
      this.polling.flush(sid, [encodeText("noop")]);
      if (closing) {
        // Closed while the client was switching: the queue just sent ends with "1".
        ws.close(1000, "closed");
        this.sessions.forget(sid);
      }
      return;
    }
    // Anything else during the probe fails the upgrade; the session stays on polling.
    this.store.setUpgradeState(sid, UPGRADE_NONE);
    ws.close(1002, "invalid upgrade");
  }

  /** The client's WebSocket closed or failed: a probe is simply gone, an upgraded session ends. */
  onGone(sid: string, probing: boolean, reason: CloseReason): void {
    this.activeBySid.delete(sid);
    const session = this.store.session(sid);
    if (!session) return;
    if (probing) this.store.setUpgradeState(sid, UPGRADE_NONE);
    else if (session.transport === "websocket") this.sessions.fail(sid, reason);
  }

  /**
   * Sends frames on the session's WebSocket. `volatile` frames are dropped while the socket has
   * a backlog (returns "dropped"); a backlog over the limit closes the session. "gone": the
   * session has no open WebSocket (the runtime closed it unreported, e.g. the object restarted).
   */
  send(sid: string, frames: WireFrame[], volatile: boolean): "sent" | "dropped" | "closed" | "gone" {
    // A broadcast's path, once per recipient: the kept socket's state is read once, not twice.
    let ws = this.activeBySid.get(sid);
    if (ws?.readyState !== WebSocket.OPEN) {
      ws = this.active(sid);
      if (ws?.readyState !== WebSocket.OPEN) return "gone";
    }
    const buffered = bufferedAmountOf(ws);
    if (volatile && buffered > VOLATILE_WS_BUFFERED_BYTES) return "dropped";
    if (buffered > this.config.limits.queuedBytes) {
      this.sessions.closeForLimit(sid, "queued_bytes");
      return "closed";
    }
    const framing = this.framing();
    for (const frame of frames) ws.send(framing.toWebSocket(frame));
    return "sent";
  }

  ping(sid: string): void {
    this.active(sid)?.send(encodeText("ping"));
  }

  /** When the runtime last auto-answered this session's ping with "3" → "6" (null: never). */
  lastAutoPong(sid: string): number | null {
    const ws = this.active(sid);
    return ws ? (this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? null) : null;
  }

  /** Closes every WebSocket of the session (an upgraded session ends). */
  closeAll(sid: string, frame: CloseFrame): void {
    this.activeBySid.delete(sid);
    for (const ws of this.ctx.getWebSockets(sid)) {
      try {
        ws.close(frame.code, frame.reason);
      } catch {
        // already closed
      }
    }
  }

  /** Closes probes that have not answered "3probe"; see EngineSessions.close. */
  closeUnansweredProbes(sid: string, reason: string): void {
    if (this.store.session(sid)?.upgrading === UPGRADE_PROBED) return;
    for (const ws of this.ctx.getWebSockets(sid)) ws.close(1000, reason);
  }
}
