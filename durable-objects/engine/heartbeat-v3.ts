/**
 * Heartbeats of an Engine.IO v3 host (ALLOW_EIO3). In v3 the client pings every pingInterval and
 * the server answers: a WebSocket's "2" is answered "3" by the runtime (this host's auto-response,
 * see framing.ts), so it never wakes the host; a polling ping arrives in a POST and is answered
 * there (sessions.ts). The server never pings. As in engine.io, a session not heard from within
 * pingInterval + pingTimeout is closed with "ping timeout".
 *
 * Cost: one alarm wake per host per pingInterval while it has sessions (the check), so a dead peer
 * is closed at most pingInterval + pingTimeout + pingInterval after its last ping.
 */
import type { EdgeioConfig } from "../config";
import type { HostStore } from "../host-store";
import type { EngineSessions } from "./sessions";

const NEXT_CHECK = "eio3_next_check_at";

export class Eio3Heartbeat {
  constructor(
    private readonly store: HostStore,
    private readonly config: EdgeioConfig,
    private readonly sessions: EngineSessions,
  ) {}

  /** Everything due at `now`. */
  run(now: number): void {
    this.sessions.closeOrphans(); // first: pending sessions back from their attachments are checked too
    const next = this.store.getMeta<number>(NEXT_CHECK);
    if (next !== null && now >= next) {
      this.check(now);
      this.store.setMeta(NEXT_CHECK, now + this.config.pingInterval);
    }
    for (const sid of this.store.sessionsPastConnectDeadline(now)) this.sessions.close(sid, "transport close");
  }

  /** When the alarm is needed next (empty: no sessions). */
  dueTimes(now: number): number[] {
    this.sessions.closeOrphans(); // sessions kept back in their attachments count too (see heartbeat.ts)
    if (this.store.sessionCount() === 0) {
      this.store.setMeta(NEXT_CHECK, null);
      return [];
    }
    let next = this.store.getMeta<number>(NEXT_CHECK);
    if (next === null) {
      next = now + this.config.pingInterval;
      this.store.setMeta(NEXT_CHECK, next);
    }
    const connectDeadline = this.store.earliestConnectDeadline();
    return connectDeadline === null ? [next] : [next, connectDeadline];
  }

  private check(now: number): void {
    const limit = this.config.pingInterval + this.config.pingTimeout;
    for (const session of this.store.sessions()) {
      if (session.closing) {
        // A polling session closed without a GET to hear it: give it one interval, then drop it.
        if (!this.sessions.polling.held(session.sid) && !this.sessions.websocket.probeOpen(session.sid)) this.sessions.forget(session.sid);
        continue;
      }
      // last_pong_at is the handshake time, then the last ping seen by the host; a WebSocket's
      // auto-answered pings are read from the runtime.
      let lastHeard = session.last_pong_at;
      if (session.transport === "websocket") lastHeard = Math.max(lastHeard, this.sessions.websocket.lastAutoPong(session.sid) ?? 0);
      if (now - lastHeard > limit) this.sessions.close(session.sid, "ping timeout");
    }
  }
}
