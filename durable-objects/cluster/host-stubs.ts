/**
 * One kept stub per target host, so a sender's calls to that host arrive in the order made
 * (Cloudflare's E-order holds per stub, not across stubs). A call that fails drops its stub:
 * a failed stub is broken, so every call still in flight on it fails too and none can be
 * overtaken by a later call on the fresh stub the next operation gets.
 */
import type { HostOp, HostReply } from "../socketio/types";

export interface HostApplier {
  apply(op: HostOp): Promise<HostReply>;
}

export class HostStubs {
  private readonly stubs = new Map<string, HostApplier>();

  constructor(private readonly make: (host: string) => HostApplier) {}

  call(host: string, op: HostOp): Promise<HostReply> {
    let stub = this.stubs.get(host);
    if (!stub) {
      stub = this.make(host);
      this.stubs.set(host, stub);
    }
    const kept = stub;
    const drop = (error: unknown): never => {
      if (this.stubs.get(host) === kept) this.stubs.delete(host);
      throw error;
    };
    try {
      return Promise.resolve(kept.apply(op)).catch(drop);
    } catch (error) {
      return Promise.reject(error).catch(drop);
    }
  }

  /** How many hosts have a kept stub (tests). */
  get size(): number {
    return this.stubs.size;
  }
}
