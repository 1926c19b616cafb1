/**
 * One kept stub per target host, so a sender's calls to that host arrive in the order made
 * (Cloudflare's E-order holds per stub, not across stubs). A call that fails drops its stub:
 * a failed stub is broken, so every call still in flight on it fails too and none can be
 * overtaken by a later call on the fresh stub the next operation gets. Past `max` hosts, an
 * idle stub (no call in flight, so nothing to overtake) is let go for each new one.
 */
import type { HostOp, HostReply } from "../socketio/types";

export interface HostApplier {
  apply(op: HostOp): Promise<HostReply>;
}

/** Stubs kept at most, while idle ones can be let go (a namespace-wide emit may reach thousands of hosts). */
export const MAX_KEPT_STUBS = 1_024;

interface Kept {
  stub: HostApplier;
  inFlight: number;
}

export class HostStubs {
  private readonly stubs = new Map<string, Kept>();

  constructor(
    private readonly make: (host: string) => HostApplier,
    private readonly max = MAX_KEPT_STUBS,
  ) {}

  call(host: string, op: HostOp): Promise<HostReply> {
    let kept = this.stubs.get(host);
    if (!kept) {
      this.letIdleGo();
      kept = { stub: this.make(host), inFlight: 0 };
      this.stubs.set(host, kept);
    }
    const entry = kept;
    entry.inFlight++;
    const ended = () => entry.inFlight--;
    const failed = (error: unknown): never => {
      if (this.stubs.get(host) === entry) this.stubs.delete(host);
      throw error;
    };
    let pending: Promise<HostReply>;
    try {
      pending = Promise.resolve(entry.stub.apply(op));
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.catch(failed).finally(ended);
  }

  /** How many hosts have a kept stub (tests). */
  get size(): number {
    return this.stubs.size;
  }

  private letIdleGo(): void {
    if (this.stubs.size < this.max) return;
    for (const [host, kept] of this.stubs) {
      if (kept.inFlight > 0) continue;
      this.stubs.delete(host);
      return;
    }
  }
}
