/**
 * Held long-polling GETs, host side. The Worker holds the client's GET and waits on a
 * hibernatable WebSocket "channel" to the host; the first message on it is the payload.
 *
 * No silent loss: frames sent on a channel stay queued until the Worker confirms
 * (POLL_DELIVERED) that its client is still there to receive them; only then are they
 * removed and the channel closed with 1000. A channel whose client has gone (the Worker saw
 * the abort, or the Worker itself is gone) never confirms, so its frames are served by the
 * next GET. A new GET supersedes a channel still open (engine.io-client never overlaps its
 * GETs, so the old one was abandoned): the old channel is closed with CLOSE_SUPERSEDED and
 * its Worker answers its (dead) client with a noop.
 */
import type { Framing } from "./framing";
import type { HostStore } from "../host-store";
import type { WebSocketAttachment } from "./types";

/** Worker → host on a channel: "I am returning your payload to a live client". */
export const POLL_DELIVERED = "delivered";
/** Host → Worker close codes. */
export const CLOSE_DELIVERED = 1000;
export const CLOSE_SUPERSEDED = 4001;
/** Worker → host close code: the client went away before the payload was handed over. */
export const CLOSE_CLIENT_GONE = 4000;

export interface PollChannelAttachment extends WebSocketAttachment {
  probing: false;
  pollChannel: true;
  /** Set once a payload was sent: the last outbox seq it carried (removed on confirmation). */
  upTo?: number;
}

const pollTag = (sid: string) => `poll:${sid}`;

export class PollChannels {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly store: HostStore,
    private readonly framing: () => Framing,
  ) {}

  /** The session's open channel (answered or not); answered ones linger until their close ends. */
  current(sid: string): WebSocket | undefined {
    return this.ctx.getWebSockets(pollTag(sid)).find((ws) => ws.readyState === WebSocket.OPEN);
  }

  all(sid: string): WebSocket[] {
    return this.ctx.getWebSockets(pollTag(sid));
  }

  /** A new GET arrived: every open channel of the session was abandoned by its client. */
  supersede(sid: string): void {
    for (const ws of this.all(sid)) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      try {
        ws.close(CLOSE_SUPERSEDED, "superseded by a newer GET");
      } catch {
        // already closing
      }
    }
  }

  /** Holds a GET: hands the Worker a hibernatable channel (its 101 response). */
  hold(sid: string): Response {
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server, [pollTag(sid)]);
    server.serializeAttachment({ sid, probing: false, pollChannel: true } satisfies PollChannelAttachment);
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Sends what is queued (plus `extra`, queued first) on the held channel, if there is one
   * that has not been answered yet. The frames stay queued until the Worker confirms.
   */
  flush(sid: string, extra: string[] = []): void {
    const channel = this.current(sid);
    if (!channel) return;
    const attachment = channel.deserializeAttachment() as PollChannelAttachment;
    if (attachment.upTo !== undefined) return; // answered; the rest waits for the next GET
    if (extra.length > 0) this.store.enqueue(sid, extra);
    const { frames, lastSeq } = this.store.peek(sid);
    if (frames.length === 0) return;
    channel.send(this.framing().encodePayload(frames));
    channel.serializeAttachment({ ...attachment, upTo: lastSeq } satisfies PollChannelAttachment);
  }

  /**
   * A message from the Worker on a channel. Returns the sid whose frames were confirmed
   * delivered (and removed), or null.
   */
  onMessage(ws: WebSocket, message: string | ArrayBuffer): string | null {
    const attachment = ws.deserializeAttachment() as PollChannelAttachment;
    if (message !== POLL_DELIVERED || attachment.upTo === undefined || ws.readyState !== WebSocket.OPEN) return null;
    this.store.deleteUpTo(attachment.sid, attachment.upTo);
    ws.close(CLOSE_DELIVERED, "delivered");
    return attachment.sid;
  }
}
