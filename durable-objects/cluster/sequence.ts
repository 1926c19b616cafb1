/**
 * One sender's operations, in order: each starts once the previous one has been issued on
 * every host through kept stubs (`Delivery.issued`: calls on one stub arrive in the order made),
 * or, for operations without it, once the previous one has settled on every host (a timed-out
 * call included), so no receiver sees them out of order. The caller still gets its results by
 * the timeout.
 */
import type { Delivery, HostReply, HostResult } from "./types";

export class Sequence {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `start` after every earlier operation was issued or settled; resolves with its per-host results. */
  run<R = HostReply>(start: () => Delivery<R> | Promise<Delivery<R>>): Promise<HostResult<R>[]> {
    const started = this.tail.then(start);
    this.tail = started.then(
      (delivery) => delivery.issued ?? delivery.settled,
      () => undefined,
    );
    return started.then((delivery) => delivery.results);
  }
}
