/**
 * Heartbeats and session deadlines, driven by the host's one alarm.
 *
 * Each session is pinged on its own schedule, as engine.io does: first pingInterval after its
 * handshake, then every pingInterval. To keep the cost per host and not per socket, the schedule
 * snaps to a grid of GRID_STEPS points per pingInterval (heartbeat-grid.ts): a session's pings
 * fall on the first grid point at or after they are due (at most pingInterval / GRID_STEPS
 * late), and the pong checks on grid points too, so a host wakes at most GRID_STEPS times per
 * pingInterval for heartbeats, however many sessions it holds. Which sessions a wake pings
 * follows from their created_at alone, so nothing is written per session; the host keeps the
 * last grid point it processed and the rounds whose pong check is still to come.
 *
 * WebSocket pongs are answered by the runtime (auto-response) and read back from its
 * timestamp, so they never wake the host (unless PONG_AUTO_RESPONSE is off).
 */
import type { EdgeioConfig } from "../config";
import type { EngineSessions } from "./sessions";
import type { HostStore, SessionRow } from "../host-store";
import { HeartbeatGrid } from "./heartbeat-grid";

/** One wake that sent pings: the grid points (from, to] it covered, and when it ran. */
interface PingRound {
  at: number;
  from: number;
  to: number;
}

export class Heartbeat {
  private readonly grid: HeartbeatGrid;

  constructor(
    private readonly store: HostStore,
    private readonly config: EdgeioConfig,
    private readonly sessions: EngineSessions,
  ) {
    this.grid = new HeartbeatGrid(config.pingInterval);
  }

  /** Everything due at `now`. */
  run(now: number): void {
    this.sessions.closeOrphans(); // first: pending sessions back from their attachments are checked too
    this.checkPongs(now);
    this.sendPingsIfDue(now);
    for (const sid of this.store.sessionsPastConnectDeadline(now)) this.sessions.close(sid, "transport close");
  }

  /** When the heartbeat needs the alarm next (empty: no sessions, nothing to do). */
  dueTimes(now: number): number[] {
    // Sessions kept back in their attachments (never written: host-store.ts) count too, in a new instance as well.
    this.sessions.closeOrphans();
    const created = this.store.sessionCreatedTimes();
    if (created.length === 0) {
      // Forget the schedule (written only when there is one: an idle host writes nothing).
      if (this.store.getMeta("ping_done") !== null) this.store.setMeta("ping_done", null);
      if (this.store.getMeta("ping_rounds") !== null) this.setUncheckedRounds([]);
      return [];
    }
    const done = this.pingDone(now);
    const due: number[] = [];
    // Closing sessions count too: one nobody polls for is dropped at its ping point.
    const nextPoint = created.reduce((min, at) => Math.min(min, this.grid.nextPing(at, done)), Number.POSITIVE_INFINITY);
    due.push(this.grid.time(nextPoint));
    const oldest = this.uncheckedRounds()[0];
    if (oldest !== undefined) due.push(this.checkTime(oldest));
    const connectDeadline = this.store.earliestConnectDeadline();
    if (connectDeadline !== null) due.push(connectDeadline);
    return due;
  }

  /** The last grid point whose pings were sent (set to the current one for a fresh host). */
  private pingDone(now: number): number {
    let done = this.store.getMeta<number>("ping_done");
    if (done === null) {
      done = this.grid.pointAtOrBefore(now);
      this.store.setMeta("ping_done", done);
    }
    return done;
  }

  /** A round's pong check: pingTimeout after it, on the grid. */
  private checkTime(round: PingRound): number {
    return this.grid.time(this.grid.pointAtOrAfter(round.at + this.config.pingTimeout));
  }

  /** Whether `session` was pinged in `round` (recomputed from its created_at). */
  private pingedIn(session: SessionRow, round: PingRound): boolean {
    return this.grid.nextPing(session.created_at, round.from) <= round.to;
  }

  /**
   * pingTimeout after each round, every session pinged in it must have answered since. Rounds
   * are checked one by one: with PING_TIMEOUT > PING_INTERVAL a newer round is sent before an
   * older one is due, and must not move the older one's deadline (a dead peer would never be due).
   */
  private checkPongs(now: number): void {
    const rounds = this.uncheckedRounds();
    const due = rounds.filter((round) => this.checkTime(round) <= now);
    if (due.length === 0) return;
    for (const session of this.store.sessions()) {
      if (session.closing) continue;
      const lastPong = this.lastPong(session);
      if (due.some((round) => this.pingedIn(session, round) && lastPong < round.at)) this.sessions.fail(session.sid, "ping timeout");
    }
    this.setUncheckedRounds(rounds.filter((round) => !due.includes(round)));
  }

  private lastPong(session: SessionRow): number {
    if (session.transport !== "websocket") return session.last_pong_at;
    const auto = this.sessions.websocket.lastAutoPong(session.sid);
    return auto === null ? session.last_pong_at : Math.max(session.last_pong_at, auto);
  }

  /** Ping rounds whose pong check is still to come, oldest first (about pingTimeout / step of them). */
  private uncheckedRounds(): PingRound[] {
    const raw = this.store.getMeta<string>("ping_rounds");
    return raw ? (JSON.parse(raw) as PingRound[]) : [];
  }

  private setUncheckedRounds(rounds: PingRound[]): void {
    this.store.setMeta("ping_rounds", rounds.length > 0 ? JSON.stringify(rounds) : null);
  }

  private sendPingsIfDue(now: number): void {
    const done = this.pingDone(now);
    const current = this.grid.pointAtOrBefore(now);
    if (current <= done) return;
    const round: PingRound = { at: now, from: done, to: current };
    let pinged = 0;
    for (const session of this.store.sessions()) {
      if (!this.pingedIn(session, round)) continue;
      if (session.closing) {
        // A polling session closed gracefully waits for a GET to hear its "1" (engine.io waits
        // closeTimeout); at its first ping point a whole interval later, nobody is coming: drop it.
        // (A probe that answered "3probe" keeps it until its "5" comes or the probe closes.)
        const abandoned = now - session.closing >= this.config.pingInterval && !this.sessions.polling.held(session.sid);
        if (abandoned && !this.sessions.websocket.probeOpen(session.sid)) this.sessions.forget(session.sid);
        continue;
      }
      if (session.transport === "websocket") this.sessions.websocket.ping(session.sid);
      else this.sessions.polling.enqueue(session.sid, "ping");
      pinged++;
    }
    if (pinged > 0) this.setUncheckedRounds([...this.uncheckedRounds(), round]);
    this.store.setMeta("ping_done", current);
  }
}
