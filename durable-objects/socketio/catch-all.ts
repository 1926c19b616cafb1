/**
 * Socket.IO's catch-all listeners (`onAny` / `prependAny` / `offAny` / `listenersAny`, and the
 * same for outgoing packets): an ordered list called synchronously with `(event, ...args)`.
 */

// biome-ignore lint/suspicious/noExplicitAny: catch-all listeners get whatever the event carries
export type AnyListener = (event: string, ...args: any[]) => void;

export class CatchAllListeners {
  private readonly list: AnyListener[] = [];

  append(listener: AnyListener): void {
    this.list.push(listener);
  }

  prepend(listener: AnyListener): void {
    this.list.unshift(listener);
  }

  /** Removes one listener, or all of them without an argument (as `offAny()`). */
  remove(listener?: AnyListener): void {
    if (!listener) {
      this.list.length = 0;
      return;
    }
    const index = this.list.indexOf(listener);
    if (index >= 0) this.list.splice(index, 1);
  }

  all(): AnyListener[] {
    return [...this.list];
  }

  /** Calls each listener in order (on a copy: a listener may remove itself); one that throws is logged. */
  notify(event: string, args: readonly unknown[], socketId: string): void {
    if (this.list.length === 0) return; // the usual case: no copy per emit
    for (const listener of [...this.list]) {
      try {
        listener(event, ...args);
      } catch (error) {
        console.error(`edgeio: catch-all listener of socket ${socketId} threw`, error);
      }
    }
  }
}
