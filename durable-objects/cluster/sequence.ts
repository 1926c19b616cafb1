/**
 * One sender's operations, in order: each starts once the previous one has been issued on
 * every host through kept stubs (`Delivery.issued`: calls on one stub arrive in the order made),
 * or, for operations without it, once the previous one has settled on every host (a timed-out
 * call included), so no receiver sees them out of order. The caller still gets its results by
 * the timeout. At most `maxInFlight` operations are under way (issued, not settled) at once, so
 * a host that stops answering holds a bounded number of a sender's calls.
 */
import type { Delivery, HostReply, HostResult } from "./types";

/** Operations of one sender issued and not yet settled, at most. */
export const MAX_IN_FLIGHT = 64;

export class Sequence {
  private tail: Promise<unknown> = Promise.resolve();
  private inFlight = 0;
  /** Set while the next operation waits for a slot (only one waits: `tail` orders them). */
  private waiting: (() => void) | undefined;

  constructor(private readonly maxInFlight = MAX_IN_FLIGHT) {}

  /** Runs `start` after every earlier operation was issued or settled; resolves with its per-host results. */
  run<R = HostReply>(start: () => Delivery<R> | Promise<Delivery<R>>): Promise<HostResult<R>[]> {
    const started = this.tail.then(() => this.slot()).then(start);
    void started.then(
      (delivery) => delivery.settled.then(() => this.release()),
      () => this.release(),
    );
    this.tail = started.then(
      (delivery) => delivery.issued ?? delivery.settled,
      () => undefined,
    );
    return started.then((delivery) => delivery.results);
  }

  private slot(): Promise<void> | undefined {
    if (this.inFlight < this.maxInFlight) {
      this.inFlight++;
      return undefined;
    }
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private release(): void {
    const next = this.waiting;
    this.waiting = undefined;
    // A waiting operation takes the freed slot over.
    if (next) next();
    else this.inFlight--;
  }
}
