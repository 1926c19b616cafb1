/**
 * A ConnectionHost's lease renewals: every room, namespace and user it has sockets in, and its
 * entry in the registry of hosts (shutdown). Run from the alarm the host already has for its
 * heartbeat, so renewals cost no extra wake; never two at once.
 */
import type { EdgeioBindings } from "./bindings";
import { LeaseRenewal } from "./cluster/lease";
import type { HostRegistration } from "./host-registry";
import { renewLease } from "./host-rooms";
import type { HostStore } from "./host-store";
import { presenceConfigFrom } from "./presence/config";
import type { RoomMembership, RoomReport } from "./socketio/room-membership";

export class HostLeases {
  private readonly leases: LeaseRenewal<RoomReport>;
  private renewing = false;

  constructor(
    private readonly env: EdgeioBindings,
    store: HostStore,
    private readonly rooms: RoomMembership,
    private readonly registration: HostRegistration,
    private readonly host: { readonly hostName: string },
  ) {
    this.leases = new LeaseRenewal(presenceConfigFrom(env as unknown as Record<string, unknown>).leaseMs, {
      lastRenewal: () => store.getMeta<number>("lease_renewed_at"),
      setLastRenewal: (at) => store.setMeta("lease_renewed_at", at),
    });
  }

  /** From the alarm: starts a renewal when one is due. Not awaited: the next alarm must not wait for it. */
  renewIfDue(now: number, waitUntil: (work: Promise<unknown>) => void): void {
    if (!this.leases.due(now) || this.renewing) return;
    this.renewing = true;
    waitUntil(
      this.renew(now, waitUntil).finally(() => {
        this.renewing = false;
      }),
    );
  }

  private async renew(now: number, waitUntil: (work: Promise<unknown>) => void): Promise<void> {
    const host = this.host.hostName;
    waitUntil(this.registration.renew(now)); // never rejects
    await this.leases.run(now, this.rooms.reports(), async (report) => {
      const missing = await renewLease(this.env, host, report, now);
      if (missing.length > 0 && report.kind === "room" && report.room !== null) await this.rooms.rejoin(report.nsp, report.room, missing);
    });
  }
}
