/**
 * A ConnectionHost's one alarm (no setTimeout in Durable Objects): it fires at the earliest of
 * the heartbeat's times and the in-memory deadlines handlers set (ack timeouts). The scheduled
 * time is cached so that rescheduling to the same time costs no storage write.
 */
import { setAlarmAt } from "./alarm";

export class HostAlarm {
  private readonly deadlines = new Map<number, { at: number; fire: () => void }>();
  private nextDeadlineId = 0;
  private scheduled: number | null | undefined;

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
    void this.schedule();
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

  /** Moves the alarm to the earliest time anything is due (or deletes it). */
  async schedule(): Promise<void> {
    const candidates = this.dueTimes(Date.now());
    for (const deadline of this.deadlines.values()) candidates.push(deadline.at);
    const next = candidates.length > 0 ? Math.min(...candidates) : null;
    if (this.scheduled === undefined) this.scheduled = await this.storage.getAlarm();
    const current = this.scheduled;
    this.scheduled = next;
    if (next !== current) this.onWrite();
    await setAlarmAt(this.storage, next, current);
  }
}
