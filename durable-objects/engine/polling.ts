/**
 * The long-polling transport of a ConnectionHost. Outgoing frames go straight to a held GET
 * when there is one (poll-channels.ts: held by the Worker on a hibernatable channel), and
 * otherwise wait in the session's outbox (SQLite) for the client's next GET: only frames no
 * GET can take now are written, which is what an eviction between a POST and a GET needs.
 * POST bodies never exceed the payload limit (read in one call when their declared length is
 * within it, otherwise bounded while streaming) and are checked against the per-POST limits.
 */
import type { EdgeioConfig } from "../config";
import { BodyTooLargeError, declaredLength, readBoundedBytes, readBoundedText } from "../../protocol/bounded-body";
import { engineErrorResponse, EngineError, type EngineErrorKind } from "../../protocol/engine-errors";
import { encodeText, toPollingFrame, type EnginePacket, type WireFrame } from "../../protocol/engine-codec";
import type { Framing } from "./framing";
import { POLL_CHANNEL_HEADER } from "../../protocol/internal-headers";
import { limitResponse, packetCost, type LimitName, type PacketRateLimiter } from "./limits";
import { verifySessionRequest } from "./verify";
import type { PollChannels } from "./poll-channels";
import { type HeldAnswer, MemoryPolls } from "./memory-polls";
import type { HostStore } from "../host-store";
import { type SessionControl, TEXT_PLAIN, UPGRADE_PROBED } from "./types";

/** engine.io answers a POST with "ok" as text/html. */
const TEXT_HTML = { "Content-Type": "text/html" };

/**
 * A POST body, never more than `limit` bytes. With a declared Content-Length within the limit
 * the body is read in one call: the runtime hands over exactly the declared bytes (HTTP framing),
 * so nothing more can arrive. Without one (chunked) it streams through the bounded reader.
 * An upload too large, or failed midway, is a `failed` body.
 */
export async function readPost(request: Request, binary: boolean, limit: number): Promise<PostBody> {
  try {
    const declared = declaredLength(request.headers);
    if (declared !== null && declared <= limit) return binary ? new Uint8Array(await request.arrayBuffer()) : await request.text();
    return binary ? await readBoundedBytes(request, limit) : await readBoundedText(request, limit);
  } catch (error) {
    return { failed: error instanceof BodyTooLargeError ? 413 : 400 };
  }
}

/**
 * Whether a POST carries a binary payload: v3 XHR2 clients POST them as application/octet-stream
 * (v4 never does), and only a v3 host reads them.
 */
export function isBinaryPost(version: 3 | 4, contentType: string | null): boolean {
  return version === 3 && contentType?.startsWith("application/octet-stream") === true;
}

/** A POST's body as the host gets it (read by the Worker, or from the request): text, bytes, or how reading it failed. */
export type PostBody = string | Uint8Array | { failed: 400 | 413 };

/** How a GET is answered over the `pollGet` RPC: frames now or later, an error, or "hold it on a channel". */
export type GetAnswer = HeldAnswer | { error: EngineErrorKind };

/** How a POST is answered: plain data, so that it crosses an RPC (see `postResponse`). */
export type PostAnswer = { ok: true } | { error: EngineErrorKind } | { limit: LimitName } | { status: 400 | 413 };

/** engine.io's answer to a POST: "ok", an Engine.IO error, a limit's error, or a bare status. */
export function postResponse(answer: PostAnswer): Response {
  if ("ok" in answer) return new Response("ok", { headers: TEXT_HTML });
  if ("error" in answer) return engineErrorResponse(answer.error);
  if ("limit" in answer) return limitResponse(answer.limit);
  return new Response(null, { status: answer.status });
}

export class PollingTransport {
  /** GETs of busy sessions, held in memory (memory-polls.ts) before any channel. */
  private readonly memory = new MemoryPolls();

  constructor(
    private readonly store: HostStore,
    private readonly config: EdgeioConfig,
    private readonly polls: PollChannels,
    private readonly packetRate: PacketRateLimiter,
    private readonly sessions: SessionControl,
    private readonly framing: () => Framing,
  ) {}

  /**
   * A long-polling GET: answered at once when frames are queued, otherwise held. Held
   * polls arrive from the Worker as a WebSocket upgrade (POLL_CHANNEL_HEADER) and wait as
   * a hibernatable WebSocket; the first payload sent on it becomes the GET's response.
   */
  poll(sid: string, request: Request): Response | Promise<Response> {
    // The previous GET was answered, and its confirmation has not been handled yet: wait for it.
    const confirming = this.polls.confirming(sid);
    if (!confirming) return this.answer(sid, request);
    // The session may have closed meanwhile (its last frames delivered).
    return confirming.then(() => (this.store.session(sid) ? this.answer(sid, request) : engineErrorResponse(EngineError.UNKNOWN_SID)));
  }

  private answer(sid: string, request: Request): Response {
    const frames = this.ready(sid);
    if (frames.length > 0 || !request.headers.has(POLL_CHANNEL_HEADER)) {
      // Without a poll channel (a direct request) there is nothing to hold on: answer a noop.
      return new Response(this.framing().encodePayload(frames.length > 0 ? frames : [encodeText("noop")]), { headers: TEXT_PLAIN });
    }
    return this.polls.hold(sid);
  }

  /**
   * A GET over the Worker's `pollGet` RPC (rules 10–13 as `EngineSessions.route` applies them to
   * a request): answered at once when frames wait, otherwise held in memory for a while
   * (memory-polls.ts); when that while is up, the Worker holds it on a channel.
   */
  get(sid: string): GetAnswer | Promise<GetAnswer> {
    const verdict = verifySessionRequest({
      session: this.store.session(sid),
      transport: "polling",
      method: "GET",
      isUpgrade: false,
      pollChannel: true,
    });
    if (verdict.kind === "error") return { error: verdict.error };
    const confirming = this.polls.confirming(sid);
    if (confirming) return confirming.then(() => (this.store.session(sid) ? this.getNow(sid) : { error: EngineError.UNKNOWN_SID }));
    return this.getNow(sid);
  }

  private getNow(sid: string): GetAnswer | Promise<GetAnswer> {
    const frames = this.ready(sid);
    if (frames.length > 0) return { frames };
    return this.memory.hold(sid);
  }

  /**
   * What a new GET takes now (empty: nothing yet). engine.io-client never overlaps its GETs: one
   * still held was abandoned by its client (network blip, frozen page); its unconfirmed frames
   * come first. A closing session is gone once its last frames (ending with "1") are taken.
   */
  private ready(sid: string): string[] {
    this.memory.supersede(sid);
    const unconfirmed = this.polls.supersede(sid);
    const session = this.store.session(sid)!;
    const frames = this.store.drain(sid, unconfirmed);
    // While a WebSocket probe succeeded, a noop lets the client pause polling and send "5".
    if (session.upgrading === UPGRADE_PROBED) frames.push(encodeText("noop"));
    if (frames.length > 0 && session.closing) this.sessions.forget(sid);
    return frames;
  }

  /** Frames a Worker took for a GET whose client had gone: first in line for the next GET. */
  requeue(sid: string, frames: string[]): void {
    if (frames.length > 0 && this.store.session(sid)) this.store.requeue(sid, 0, frames);
  }

  /** Whether `ws` is a poll channel this instance already knows (no attachment read needed). */
  isKnownChannel(ws: WebSocket): boolean {
    return this.polls.known(ws) !== null;
  }

  /** A held GET's channel closed: delivered (the Worker's confirmation), superseded, or its client went away. */
  onChannelClose(ws: WebSocket, code: number): void {
    const sid = this.polls.onClose(ws, code);
    // A closing session is gone once its last frames (ending with "1") are handed over; frames
    // queued after this payload (the "1" of a close that came later) wait for the next GET.
    if (sid && this.store.session(sid)?.closing && this.store.queueSize(sid).frames === 0) this.sessions.forget(sid);
  }

  /** A POST of packets from the client, forwarded as a request (the Worker sends `post` instead). */
  async receive(sid: string, request: Request): Promise<Response> {
    const binary = isBinaryPost(this.framing().version, request.headers.get("Content-Type"));
    return postResponse(this.receiveBody(sid, await readPost(request, binary, this.config.maxPayload)));
  }

  /**
   * A POST whose body the Worker read (an RPC: no Request, stream or Response here), after the
   * session rules of verify.ts (10–13) that `EngineSessions.route` applies to a request.
   */
  post(sid: string, body: PostBody): PostAnswer {
    const session = this.store.session(sid);
    const verdict = verifySessionRequest({ session, transport: "polling", method: "POST", isUpgrade: false, pollChannel: false });
    return verdict.kind === "error" ? { error: verdict.error } : this.receiveBody(sid, body);
  }

  private receiveBody(sid: string, body: PostBody): PostAnswer {
    if (typeof body === "object" && !(body instanceof Uint8Array)) return this.failedUpload(sid, body.failed);
    // Never more than maxPayload, whoever read it (a text body has no more UTF-16 units than bytes).
    if (body.length > this.config.maxPayload) return this.failedUpload(sid, 413);
    const packets = typeof body === "string" ? this.framing().decodePayload(body) : this.framing().decodeBinaryPayload(body);
    if (!packets) {
      this.sessions.fail(sid, "parse error");
      return { error: EngineError.BAD_REQUEST };
    }
    const overLimit = this.overLimit(sid, packets);
    if (overLimit) {
      this.sessions.closeForLimit(sid, overLimit);
      return { limit: overLimit };
    }
    for (const packet of packets) {
      if (!this.store.session(sid)) break;
      this.sessions.onPacket(sid, packet);
    }
    return { ok: true };
  }

  /**
   * Too large, or the upload failed midway (the Worker cuts a body off at the limit as it
   * streams, or the client went away): either way this session's transport failed.
   */
  private failedUpload(sid: string, status: 400 | 413): PostAnswer {
    this.sessions.fail(sid, "transport error");
    return { status };
  }

  /** A POST's packets against the per-POST cap and the session's token bucket. */
  private overLimit(sid: string, packets: EnginePacket[]): LimitName | null {
    if (packets.length > this.config.limits.packetsPerPost) return "packets_per_post";
    let cost = 0;
    for (const packet of packets) {
      const data = packet.data;
      cost += packetCost(typeof data === "string" ? data.length : (data?.byteLength ?? 0));
    }
    return this.packetRate.take(sid, cost) ? null : "packet_rate";
  }

  /** Answers a held GET with whatever is queued (plus `extra`, dropped if no GET is held); see PollChannels. */
  flush(sid: string, extra: string[] = []): void {
    if (!this.answerInMemory(sid, extra)) this.polls.flush(sid, extra);
  }

  /** Hands frames to the held GET, or queues them (SQLite) for the next one. */
  private deliver(sid: string, frames: string[]): void {
    if (this.answerInMemory(sid, frames)) {
      // A closing session is gone once its last frames (ending with "1") are handed over.
      if (this.store.session(sid)?.closing) this.sessions.forget(sid);
    } else if (!this.polls.flush(sid, frames)) this.store.enqueue(sid, frames);
  }

  /** Answers a GET held in memory with what is queued plus `fresh` (queued first); false when none is. */
  private answerInMemory(sid: string, fresh: string[]): boolean {
    if (!this.memory.held(sid)) return false;
    const queued = this.store.drain(sid);
    return this.memory.answer(sid, queued.length > 0 ? [...queued, ...fresh] : fresh.slice());
  }

  /** The session is gone: its held GETs end (channels closed with CLOSE_SESSION_GONE, one in memory with a noop). */
  forget(sid: string): void {
    this.memory.supersede(sid);
    for (const ws of this.polls.all(sid)) {
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, "session closed");
    }
  }

  /** Whether a GET of the session waits in memory right now (not on a channel). */
  heldInMemory(sid: string): boolean {
    return this.memory.held(sid);
  }

  /** Whether a GET of the session is held right now. */
  held(sid: string): boolean {
    return this.memory.held(sid) || this.polls.current(sid) !== undefined;
  }

  /**
   * Queues frames for the session's next GET (answering a held one at once). `volatile` frames
   * are dropped when nothing is held and frames already wait (returns "dropped"), as Socket.IO
   * drops them on a transport that is not writable; a backlog over the limits closes the session.
   */
  send(sid: string, frames: WireFrame[], volatile: boolean): "sent" | "dropped" | "closed" {
    const { queuedFrames, queuedBytes } = this.config.limits;
    const queued = this.store.queueSize(sid);
    if (volatile && queued.frames > 0 && !this.held(sid)) return "dropped";
    const polling = frames.map(toPollingFrame);
    const bytes = polling.reduce((sum, frame) => sum + frame.length, 0);
    if (queued.frames + polling.length > queuedFrames || queued.bytes + bytes > queuedBytes) {
      this.sessions.closeForLimit(sid, queued.frames + polling.length > queuedFrames ? "queued_frames" : "queued_bytes");
      return "closed";
    }
    this.deliver(sid, polling);
    return "sent";
  }

  /** Queues a ping, or the close packet, for the next GET (a v3 host never pings: heartbeat-v3.ts). */
  enqueue(sid: string, packet: "ping" | "close"): void {
    this.deliver(sid, [encodeText(packet)]);
  }
}
