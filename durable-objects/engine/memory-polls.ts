/**
 * Held long-polling GETs of busy sessions, kept in memory (issue 11). A GET the Worker sends as
 * the `pollGet` RPC (it does for a session that POSTed a moment ago: worker/busy-sessions.ts)
 * waits here, as the RPC's pending answer, for at most HOT_HOLD_MS: the next frames answer it with no WebSocket channel to open, send on
 * and close (poll-channels.ts), which cost a round trip three host invocations instead of two.
 * A GET still unanswered when its time is up comes back to the Worker as `channel`, and waits
 * from then on a hibernatable channel as before, so an idle session keeps its host hibernatable.
 *
 * Nothing is lost: frames handed to a waiting GET go straight into the RPC's answer (no window
 * in which they are only in this object's memory); an eviction while one waits fails the RPC
 * with nothing taken, and the Worker answers a noop, so the frames wait in the outbox for the
 * next GET. A Worker whose client has gone gives the frames back (`pollRequeue`).
 */

/** How long a GET waits in memory before it moves to a channel. */
export const HOT_HOLD_MS = 1000;

/** A held GET's answer, as plain data for the RPC: frames to serve, or "wait on a channel". */
export type HeldAnswer = { frames: string[] } | { channel: true };

interface Waiter {
  resolve: (answer: HeldAnswer) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class MemoryPolls {
  private readonly waiters = new Map<string, Waiter>();

  held(sid: string): boolean {
    return this.waiters.has(sid);
  }

  /** Holds a GET for at most `ms`; it ends with frames (`answer`) or, on time, `channel`. */
  hold(sid: string, ms = HOT_HOLD_MS): Promise<HeldAnswer> {
    this.supersede(sid);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.end(sid, { channel: true }), ms);
      this.waiters.set(sid, { resolve, timer });
    });
  }

  /** Answers the session's waiting GET with these frames; false when none waits. */
  answer(sid: string, frames: string[]): boolean {
    return this.end(sid, { frames });
  }

  /** A newer GET arrived (engine.io-client never overlaps them): the old one ends with a noop. */
  supersede(sid: string): void {
    this.end(sid, { frames: [] });
  }

  private end(sid: string, answer: HeldAnswer): boolean {
    const waiter = this.waiters.get(sid);
    if (!waiter) return false;
    this.waiters.delete(sid);
    clearTimeout(waiter.timer);
    waiter.resolve(answer);
    return true;
  }
}
