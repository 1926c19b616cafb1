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
    const oldest = this.uncheckedRounds()[0];
    if (oldest !== undefined) due.push(oldest + this.config.pingTimeout);
    const connectDeadline = this.store.earliestConnectDeadline();
    if (connectDeadline !== null) due.push(connectDeadline);
    return due;
  }

  /**
   * pingTimeout after each ping round, every session pinged then must have answered since. Rounds
   * are checked one by one: with PING_TIMEOUT > PING_INTERVAL a newer round is sent before an
   * older one is due, and must not move the older one's deadline (a dead peer would never be due).
   */
  private checkPongs(now: number): void {
    const rounds = this.uncheckedRounds();
    const due = rounds.filter((round) => round + this.config.pingTimeout <= now);
    if (due.length === 0) return;
    const round = due[due.length - 1]; // the latest due round covers the earlier ones
    for (const session of this.store.sessions()) {
      if (session.closing || session.created_at > round) continue;
      let lastPong = session.last_pong_at;
      if (session.transport === "websocket") {
        const auto = this.sessions.websocket.lastAutoPong(session.sid);
        if (auto !== null) lastPong = Math.max(lastPong, auto);
      }
      // Each due round had its whole pingTimeout to be answered: the latest must have been.
      if (lastPong < round) this.sessions.close(session.sid, "ping timeout");
    }
    this.setUncheckedRounds(rounds.filter((r) => r + this.config.pingTimeout > now));
  }

  /** Ping rounds whose pong check is still to come, oldest first (a handful at most). */
  private uncheckedRounds(): number[] {
    const raw = this.store.getMeta<string>("ping_rounds");
    return raw ? (JSON.parse(raw) as number[]) : [];
  }

  private setUncheckedRounds(rounds: number[]): void {
    this.store.setMeta("ping_rounds", rounds.length > 0 ? JSON.stringify(rounds) : null);
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
    this.setUncheckedRounds([...this.uncheckedRounds(), now]);
    this.store.setMeta("next_ping_at", now + this.config.pingInterval);
  }
}
