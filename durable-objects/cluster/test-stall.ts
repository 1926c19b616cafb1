/**
 * A test-only way to make a host unreachable without stopping the runtime: while stalled, the
 * host's `apply` and `collectAcks` do not answer (callers then see their per-host timeout).
 * Refused unless ENVIRONMENT=test; released calls carry on as if they had just arrived.
 */
export class TestStall {
  private stalled = false;
  private waiting: Array<() => void> = [];

  constructor(private readonly enabled: boolean) {}

  set(stalled: boolean): void {
    if (!this.enabled) throw new Error("edgeio: stalling a host is only possible when ENVIRONMENT=test");
    this.stalled = stalled;
    if (stalled) return;
    for (const release of this.waiting) release();
    this.waiting = [];
  }

  /** Resolves at once, or, while stalled, once the stall is lifted. */
  pass(): Promise<void> {
    if (!this.stalled) return Promise.resolve();
    return new Promise((release) => this.waiting.push(release));
  }
}
