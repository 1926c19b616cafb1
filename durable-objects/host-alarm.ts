/**
 * A ConnectionHost's one alarm (no setTimeout in Durable Objects): it fires at the earliest of
 * the heartbeat's times and the in-memory deadlines handlers set (ack timeouts). The scheduled
 * time is cached so that rescheduling to the same time costs no storage write, and the
 * computation is done once per event however many callers ask for it.
 */
import { setAlarmAt } from "./alarm";

export class HostAlarm {
  private readonly deadlines = new Map<number, { at: number; fire: () => void }>();
  private nextDeadlineId = 0;
  private scheduled: number | null | undefined;
  private pending: Promise<void> | null = null;

  constructor(
    private readonly storage: DurableObjectStorage,
    /** The other times the alarm must fire at (the heartbeat's). */
    private readonly dueTimes: (now: number) => number[],
    /** Counts alarm writes that reach storage (billed work). */
    private readonly onWrite: () => void = () => undefined,
  ) {}

  /** Calls `fire` once `at` has passed; returns a cancel function. */
  addDeadline(at: number, fire: () => void): () => void {
    const id = this.nextDeadlineId++;
    this.deadlines.set(id, { at, fire });
    // An alarm already set to fire no later covers it: nothing to compute (ack timeouts are frequent).
    if (this.scheduled === undefined || this.scheduled === null || at < this.scheduled) void this.schedule();
    return () => this.deadlines.delete(id);
  }

  /** The alarm fired: it is no longer scheduled. */
  fired(): void {
    this.scheduled = null;
  }

  /** Runs the deadlines that are due. */
  runDeadlines(now: number): void {
    for (const [id, deadline] of this.deadlines) {
      if (deadline.at > now) continue;
      this.deadlines.delete(id);
      try {
        deadline.fire();
      } catch (error) {
        console.error("edgeio: deadline callback threw", error);
      }
    }
  }

  /**
   * Moves the alarm to the earliest time anything is due (or deletes it). Calls made in the
   * same turn of an event share one computation.
   */
  schedule(): Promise<void> {
    if (!this.pending) {
      this.pending = Promise.resolve().then(() => {
        this.pending = null;
        return this.compute();
      });
    }
    return this.pending;
  }

  /**
   * Something new is due, at `at` or later (a new session's first ping and connect deadline): an
   * alarm already set no later covers it, so nothing is computed (a connect costs O(1), not a pass
   * over every session); otherwise the full schedule.
   */
  cover(at: number): Promise<void> {
    if (this.covers(at)) return Promise.resolve();
    return this.schedule();
  }

  /** Whether an alarm already set fires no later than `at` (then `cover` has nothing to do). */
  covers(at: number): boolean {
    return typeof this.scheduled === "number" && this.scheduled <= at;
  }

  /**
   * A due time went away (a session's connect deadline, once it connected): only an alarm set
   * for exactly that time may move (later), so only then is it recomputed. `null`: recompute.
   */
  release(at: number | null): Promise<void> {
    if (at !== null && this.scheduled !== undefined && this.scheduled !== at) return Promise.resolve();
    return this.schedule();
  }

  /**
   * Moves a set alarm earlier, to `at`; never sets one where none is (whether the host needs an
   * alarm at all is the heartbeat's and the deadlines' call, made by `schedule`).
   */
  async advance(at: number): Promise<void> {
    if (this.scheduled === undefined) this.scheduled = await this.storage.getAlarm();
    const current = this.scheduled;
    if (current === null || current <= at) return;
    this.scheduled = at;
    this.onWrite();
    await setAlarmAt(this.storage, at, current);
  }

  private async compute(): Promise<void> {
    let next: number | null = null;
    for (const at of this.dueTimes(Date.now())) if (next === null || at < next) next = at;
    for (const deadline of this.deadlines.values()) if (next === null || deadline.at < next) next = deadline.at;
    if (this.scheduled === undefined) this.scheduled = await this.storage.getAlarm();
    const current = this.scheduled;
    this.scheduled = next;
    if (next !== current) this.onWrite();
    await setAlarmAt(this.storage, next, current);
  }
}
