/**
 * Held long-polling GETs, host side. The Worker holds the client's GET and waits on a
 * hibernatable WebSocket "channel" to the host; the first message on it is the payload.
 *
 * No silent loss: frames sent on a channel stay queued until the Worker confirms that its
 * client is still there to receive them, by closing the channel with CLOSE_DELIVERED as it
 * answers its GET: the host's close event (one invocation, which a close costs anyway) removes
 * them. The Worker answers its client once the close came back; the runtime answers a close as it
 * receives it (`web_socket_auto_reply_to_close`), not once the host's handler ran, so a next GET
 * of the client that arrives before the confirmation has been handled waits for it
 * (`confirming`), and never serves a delivered frame again. A channel whose client has gone
 * (the Worker saw the abort, or the Worker itself is gone) closes with another code, so its
 * frames are served by the next GET. A new GET supersedes a channel still open (engine.io-client never overlaps its
 * GETs, so the old one was abandoned): the old channel is closed with CLOSE_SUPERSEDED and
 * its Worker answers its (dead) client with a noop.
 *
 * What is persisted (eviction safety): a frame goes to the SQLite outbox only when no GET is
 * held to take it. Frames handed straight to a held GET travel in the channel's attachment
 * (`inflight`), which survives hibernation and eviction like the channel itself, until the
 * Worker confirms them; if it never does (client gone, superseded), they go back in the queue
 * ahead of anything queued later. Frames too large for the attachment are queued first, as before.
 */
import type { Framing } from "./framing";
import type { HostStore } from "../host-store";
import type { WebSocketAttachment } from "./types";

/** Worker → host close code: "I am returning your payload to a live client" (the host echoes it). */
export const CLOSE_DELIVERED = 4002;
/** Host → Worker close codes: a newer GET took over; the session was forgotten. */
export const CLOSE_SUPERSEDED = 4001;
export const CLOSE_SESSION_GONE = 1000;
/** Worker → host close code: the client went away before the payload was handed over. */
export const CLOSE_CLIENT_GONE = 4000;

export interface PollChannelAttachment extends WebSocketAttachment {
  probing: false;
  pollChannel: true;
  /** Set once a payload was sent: the last outbox seq it carried (0: none; removed on confirmation). */
  upTo?: number;
  /** Frames of that payload that are not in the outbox (the attachment keeps them safe until confirmed). */
  inflight?: string[];
}

/** How long a GET waits for the confirmation of an answered channel before serving its frames again. */
const CONFIRM_WAIT_MS = 2000;

/** Room for in-flight frames in an attachment (the runtime allows 2 KiB for the whole attachment). */
const INFLIGHT_BUDGET = 1200;

/** Frames that fit in an attachment: at most 2 bytes a character as the runtime serializes strings. */
function fitsAttachment(frames: string[]): boolean {
  let size = 0;
  for (const frame of frames) size += frame.length * 2 + 8;
  return size <= INFLIGHT_BUDGET;
}

const pollTag = (sid: string) => `poll:${sid}`;

export class PollChannels {
  /**
   * Each session's latest channel opened by this instance (in memory; empty after a wake): a
   * round trip asks for it twice (the GET that supersedes, the send that answers), and a tag
   * lookup costs more than a map read. Opening a channel closes every other open one of the
   * session (`supersede`), so while an entry is here no other channel of its session is open.
   */
  private readonly latest = new Map<string, WebSocket>();
  /** The attachments this instance wrote or read, mirrored (reading one is a native call and a deserialization). */
  private readonly attachments = new WeakMap<WebSocket, PollChannelAttachment>();
  /** GETs waiting for an answered channel's close (see `confirming`), by channel. */
  private readonly waiting = new Map<WebSocket, () => void>();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly store: HostStore,
    private readonly framing: () => Framing,
  ) {}

  /** The session's open channel (answered or not); answered ones linger until their close ends. */
  current(sid: string): WebSocket | undefined {
    const latest = this.latest.get(sid);
    if (latest) return latest.readyState === WebSocket.OPEN ? latest : undefined;
    return this.ctx.getWebSockets(pollTag(sid)).find((ws) => ws.readyState === WebSocket.OPEN);
  }

  /** A channel's attachment if this instance knows it already (null: read it from the runtime). */
  known(ws: WebSocket): PollChannelAttachment | null {
    return this.attachments.get(ws) ?? null;
  }

  private attachmentOf(ws: WebSocket): PollChannelAttachment {
    let attachment = this.attachments.get(ws);
    if (!attachment) {
      attachment = ws.deserializeAttachment() as PollChannelAttachment;
      this.attachments.set(ws, attachment);
    }
    return attachment;
  }

  private attach(ws: WebSocket, attachment: PollChannelAttachment): void {
    ws.serializeAttachment(attachment);
    this.attachments.set(ws, attachment);
  }

  all(sid: string): WebSocket[] {
    return this.ctx.getWebSockets(pollTag(sid));
  }

  /**
   * A new GET arrived: every open channel of the session was abandoned by its client. Returns
   * what the answered one carried unconfirmed, for the new GET to serve in its place.
   */
  supersede(sid: string): { afterSeq: number; frames: string[] } {
    const unconfirmed = { afterSeq: 0, frames: [] as string[] };
    const latest = this.latest.get(sid);
    for (const ws of latest ? [latest] : this.all(sid)) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      const taken = this.takeInflight(ws);
      if (taken) Object.assign(unconfirmed, taken);
      try {
        ws.close(CLOSE_SUPERSEDED, "superseded by a newer GET");
      } catch {
        // already closing
      }
    }
    return unconfirmed;
  }

  /**
   * Resolves once the session's answered channel has been closed and handled, when its close is
   * on its way from the Worker or not handled yet (null: nothing to wait for, the usual case: the Worker closes
   * before it answers its client, so the client's next GET rarely overtakes it). If it never comes
   * (CONFIRM_WAIT_MS), the GET goes on and `supersede` serves the frames again. Only a channel
   * this instance answered is waited for: the confirmation comes milliseconds after the answer,
   * too soon for the host to have hibernated in between.
   */
  confirming(sid: string): Promise<void> | null {
    const answered = this.latest.get(sid);
    if (!answered || this.attachmentOf(answered).upTo === undefined) return null;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.waiting.get(answered) === done) this.waiting.delete(answered);
        resolve();
      };
      const timer = setTimeout(done, CONFIRM_WAIT_MS);
      this.waiting.get(answered)?.();
      this.waiting.set(answered, done);
    });
  }

  /**
   * A channel closed. With CLOSE_DELIVERED its payload reached a live client: its frames are
   * removed (returns the sid); otherwise (client gone, superseded, reset) what it carried
   * unconfirmed goes back in the queue, for the next GET (returns null).
   */
  onClose(ws: WebSocket, code: number): string | null {
    const sid = this.handleClose(ws, code);
    this.waiting.get(ws)?.();
    return sid;
  }

  private handleClose(ws: WebSocket, code: number): string | null {
    const attachment = this.attachmentOf(ws);
    if (this.latest.get(attachment.sid) === ws) this.latest.delete(attachment.sid);
    if (code === CLOSE_DELIVERED) {
      if (attachment.upTo === undefined) return null;
      if (attachment.upTo > 0) this.store.deleteUpTo(attachment.sid, attachment.upTo);
      return attachment.sid;
    }
    const taken = this.takeInflight(ws);
    if (taken && this.store.session(taken.sid)) this.store.requeue(taken.sid, taken.afterSeq, taken.frames);
    return null;
  }

  /** Removes a channel's unconfirmed in-flight frames from its attachment and returns them. */
  private takeInflight(ws: WebSocket): { sid: string; afterSeq: number; frames: string[] } | null {
    const attachment = this.attachmentOf(ws);
    if (!attachment.inflight || attachment.inflight.length === 0) return null;
    this.attach(ws, { ...attachment, inflight: [] });
    return { sid: attachment.sid, afterSeq: attachment.upTo ?? 0, frames: attachment.inflight };
  }

  /** Holds a GET: hands the Worker a hibernatable channel (its 101 response). */
  hold(sid: string): Response {
    // Indexed, not Object.values: that reads every property of the pair through its getters.
    const pair = new WebSocketPair();
    const client = pair[0];
    const server = pair[1];
    this.ctx.acceptWebSocket(server, [pollTag(sid)]);
    this.attach(server, { sid, probing: false, pollChannel: true });
    this.latest.set(sid, server);
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Sends what is queued plus `fresh` frames (queued first in order) on the held channel, if
   * there is one that has not been answered yet; returns whether it did. Queued frames stay
   * queued until the Worker confirms; `fresh` ones ride in the channel's attachment when they
   * fit, and are not written to SQLite at all.
   */
  flush(sid: string, fresh: string[] = []): boolean {
    const channel = this.current(sid);
    if (!channel) return false;
    const attachment = this.attachmentOf(channel);
    if (attachment.upTo !== undefined) return false; // answered; the rest waits for the next GET
    // A copy: the attachment is mirrored in memory, where the caller's array must not reach it.
    const inflight = fitsAttachment(fresh) ? fresh.slice() : [];
    if (inflight.length === 0 && fresh.length > 0) this.store.enqueue(sid, fresh);
    const { frames, lastSeq } = this.store.peek(sid);
    const payload = [...frames, ...inflight];
    if (payload.length === 0) return false;
    this.attach(channel, { ...attachment, upTo: lastSeq, inflight });
    channel.send(this.framing().encodePayload(payload));
    return true;
  }
}
