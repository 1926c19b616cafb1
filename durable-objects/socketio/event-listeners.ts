/** A socket's event listeners by event name (`on`, `off`, `listenerCount`), in registration order. */
// biome-ignore lint/suspicious/noExplicitAny: handlers declare their own argument types, as with Socket.IO's `socket.on`
export type Listener = (...args: any[]) => unknown;

export class EventListeners {
  private readonly byEvent = new Map<string, Listener[]>();

  add(event: string, listener: Listener): void {
    // A new array each time (a dispatch in progress keeps its own); the usual first listener spreads nothing.
    const listeners = this.byEvent.get(event);
    this.byEvent.set(event, listeners ? [...listeners, listener] : [listener]);
  }

  /** No event: every listener; no listener: every listener of the event. */
  remove(event?: string, listener?: Listener): void {
    if (event === undefined) this.byEvent.clear();
    else if (listener === undefined) this.byEvent.delete(event);
    else
      this.byEvent.set(
        event,
        (this.byEvent.get(event) ?? []).filter((l) => l !== listener),
      );
  }

  of(event: string): readonly Listener[] {
    return this.byEvent.get(event) ?? [];
  }
}
