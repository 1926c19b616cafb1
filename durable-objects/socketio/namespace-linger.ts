/**
 * Hysteresis on a host's entry in a namespace directory. A host lists itself there on its first
 * socket in the namespace. When its last socket leaves, it stays listed for one lease period
 * (renewed with a count of 0) and only then leaves. A socket that arrives meanwhile costs the
 * directory nothing, and its CONNECT waits for no call to it (one object for the namespace,
 * perhaps a region away). Without this, a host whose sockets come and go one at a time pays an
 * `addHost` and a `removeHost` on that shared object per connection: every host of a sparse
 * deployment does (many colos, few sockets per host).
 *
 * In memory only. A host evicted while lingering never leaves: the directory drops it once its
 * lease runs out, as it drops a host that crashed. Until then a namespace-wide emit calls it,
 * and it matches nobody.
 */
export class NamespaceLinger {
  /** Namespace → its pending leave (compared by identity, so a stale deadline does nothing). */
  private readonly lingering = new Map<string, { cancel: () => void }>();

  constructor(
    /** How long the host stays listed with no socket (its lease period); 0: it leaves at once. */
    private readonly lingerMs: number,
    /** Runs `fire` at `at` (the host's alarm); returns a cancel function. */
    private readonly schedule: (at: number, fire: () => void) => () => void,
  ) {}

  get enabled(): boolean {
    return this.lingerMs > 0;
  }

  /** The host's last socket in `nsp` left: `leave` runs after the linger period unless `reuse(nsp)` comes first. */
  start(nsp: string, leave: () => void): void {
    this.lingering.get(nsp)?.cancel();
    const token: { cancel: () => void } = { cancel: () => undefined };
    token.cancel = this.schedule(Date.now() + this.lingerMs, () => {
      if (this.lingering.get(nsp) !== token) return;
      this.lingering.delete(nsp);
      leave();
    });
    this.lingering.set(nsp, token);
  }

  /** A socket is the host's first in `nsp` again. True: the host is still listed, no call needed. */
  reuse(nsp: string): boolean {
    const token = this.lingering.get(nsp);
    if (!token) return false;
    token.cancel();
    this.lingering.delete(nsp);
    return true;
  }

  /** The namespaces this host is listed in with no socket (its renewals keep them, with a count of 0). */
  namespaces(): string[] {
    return [...this.lingering.keys()];
  }
}
