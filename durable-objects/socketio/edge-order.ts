/**
 * Order of a host's calls to one room (or namespace directory). Edge calls (the host's first
 * socket in, its last socket out) wait for every earlier call to that room and then hold back
 * later ones, so "host added" and "host removed" can never arrive swapped. Other calls wait
 * only for the last edge: a socket that joins while the host's first join is in flight resolves
 * after the room lists the host, so a broadcast after `await join()` reaches it.
 */
export class EdgeOrder {
  private readonly keys = new Map<string, { edge: Promise<void>; inflight: Set<Promise<void>> }>();

  /** No call to this key is in flight: a call that is not an edge has nothing to wait for. */
  idle(key: string): boolean {
    return !this.keys.has(key);
  }

  run<T>(key: string, isEdge: boolean, call: () => Promise<T>): Promise<T> {
    const state = this.keys.get(key) ?? { edge: Promise.resolve(), inflight: new Set<Promise<void>>() };
    this.keys.set(key, state);
    const before = isEdge ? Promise.allSettled([state.edge, ...state.inflight]) : state.edge;
    const result = before.then(call);
    const done: Promise<void> = result.then(
      () => undefined,
      () => undefined,
    );
    if (isEdge) state.edge = done;
    state.inflight.add(done);
    void done.then(() => {
      state.inflight.delete(done);
      if (state.inflight.size === 0 && this.keys.get(key) === state) this.keys.delete(key);
    });
    return result;
  }
}
