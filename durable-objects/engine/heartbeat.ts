/**
 * Heartbeats and session deadlines, driven by the host's one alarm: pings to every session once
 * per PING_INTERVAL (one wake per host, not per socket), the pong check PING_TIMEOUT after,
 * connect timeouts, and dropping closed polling sessions nobody polls for. WebSocket pongs are
 * answered by the runtime (auto-response) and read back from its timestamp, so they never wake
 * the host.
 */
import type { EdgeioConfig } from "../config";
import type { EngineSessions } from "./sessions";
import type { HostStore } from "../host-store";

export class Heartbeat {
  constructor(
    private readonly store: HostStore,
    private readonly config: EdgeioConfig,
    private readonly sessions: EngineSessions,
  ) {}

  /** Everything due at `now`. */
  run(now: number): void {
    this.checkPongs(now);
    this.sendPingsIfDue(now);
    for (const sid of this.store.sessionsPastConnectDeadline(now)) this.sessions.close(sid, "transport close");
  }

  /** When the heartbeat needs the alarm next (empty: no sessions, nothing to do). */
  dueTimes(now: number): number[] {
    if (this.store.sessionCount() === 0) {
      this.store.setMeta("next_ping_at", null);
      return [];
    }
    let nextPing = this.store.getMeta<number>("next_ping_at");
    if (nextPing === null) {
      nextPing = now + this.config.pingInterval;
      this.store.setMeta("next_ping_at", nextPing);
    }
    const due = [nextPing];
    const lastPing = this.store.getMeta<number>("last_ping_at");
    if (lastPing && !this.store.getMeta<number>("pongs_checked")) due.push(lastPing + this.config.pingTimeout);
    const connectDeadline = this.store.earliestConnectDeadline();
    if (connectDeadline !== null) due.push(connectDeadline);
    return due;
  }

  /** pingTimeout after a ping: every session pinged then must have answered since. */
  private checkPongs(now: number): void {
    const lastPing = this.store.getMeta<number>("last_ping_at");
    if (!lastPing || this.store.getMeta<number>("pongs_checked") || now < lastPing + this.config.pingTimeout) return;
    for (const session of this.store.sessions()) {
      if (session.closing || session.created_at > lastPing) continue;
      let lastPong = session.last_pong_at;
      if (session.transport === "websocket") {
        const auto = this.sessions.websocket.lastAutoPong(session.sid);
        if (auto !== null) lastPong = Math.max(lastPong, auto);
      }
      if (lastPong < lastPing) this.sessions.close(session.sid, "ping timeout");
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
        if (!this.sessions.polling.held(session.sid) && !this.sessions.websocket.probeOpen(session.sid)) this.sessions.forget(session.sid);
        continue;
      }
      if (session.transport === "websocket") this.sessions.websocket.ping(session.sid);
      else this.sessions.polling.enqueue(session.sid, "ping");
    }
    this.store.setMeta("last_ping_at", now);
    this.store.setMeta("pongs_checked", 0);
    this.store.setMeta("next_ping_at", now + this.config.pingInterval);
  }
}
