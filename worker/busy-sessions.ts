/**
 * Long-polling sessions this isolate saw POST more than a pong a moment ago (issue 11). Their
 * next GET goes to the host as the `pollGet` RPC and waits in the host's memory for the answer
 * (durable-objects/engine/memory-polls.ts): a busy round trip then costs the host two
 * invocations, not three. Any other GET opens a hibernatable channel at once, so an idle session
 * (pings and pongs only) costs what it did and keeps its host hibernatable. A hint only, in
 * memory and per isolate: a GET reaching another isolate simply waits on a channel.
 */

/** A session is busy while its last POST with more than a pong is at most this old. */
export const BUSY_WINDOW_MS = 2000;
/** Sessions remembered at most (oldest out first): a flood of POSTs cannot grow it. */
const BUSY_SESSIONS_MAX = 10_000;

/** A POST body that is a lone pong, as engine.io-client sends one (v4 "3", v3 "1:3"). */
function isLonePong(body: string | Uint8Array | object): boolean {
  return body === "3" || body === "1:3";
}

export class BusySessions {
  private readonly lastPost = new Map<string, number>();

  constructor(
    private readonly windowMs = BUSY_WINDOW_MS,
    private readonly max = BUSY_SESSIONS_MAX,
  ) {}

  /** A POST of the session reached the host. */
  posted(sid: string, body: string | Uint8Array | object, now = Date.now()): void {
    if (isLonePong(body)) return;
    // Re-inserted, so that the Map's order stays oldest first.
    this.lastPost.delete(sid);
    if (this.lastPost.size >= this.max) this.lastPost.delete(this.lastPost.keys().next().value as string);
    this.lastPost.set(sid, now);
  }

  /** The session counts as idle again (tests: a GET that must wait on a channel). */
  forget(sid: string): void {
    this.lastPost.delete(sid);
  }

  /** Whether a GET of the session should wait in the host's memory first. */
  isBusy(sid: string, now = Date.now()): boolean {
    const at = this.lastPost.get(sid);
    return at !== undefined && now - at <= this.windowMs;
  }
}

/** This isolate's busy sessions (worker/engine-route.ts). */
export const busySessions = new BusySessions();
