/**
 * The alarm of a presence object (RoomDO, UserDO): one alarm at the earliest grace deadline
 * and, while the object holds any socket, the next lease check (every PRESENCE_LEASE_MS).
 */
import { setAlarmAt } from "../alarm";
import type { MetaTable } from "./meta-table";

const NEXT_LEASE = "next_lease_at";

export class AlarmSchedule {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly meta: Pick<MetaTable, "number" | "set">,
    private readonly leaseMs: number,
  ) {}

  /** Sets the alarm for the earliest of `deadlines` (null: none) and, if `holding`, the lease check. */
  async schedule(deadlines: Array<number | null>, holding: boolean): Promise<void> {
    const candidates = deadlines.filter((at): at is number => at !== null);
    if (holding) {
      let nextLease = this.meta.number(NEXT_LEASE);
      if (nextLease === null) {
        nextLease = Date.now() + this.leaseMs;
        this.meta.set(NEXT_LEASE, nextLease);
      }
      candidates.push(nextLease);
    } else {
      this.meta.set(NEXT_LEASE, null);
    }
    await setAlarmAt(this.storage, candidates.length > 0 ? Math.min(...candidates) : null);
  }

  /** Whether the lease check is due at `now`; if so, the next one is set a lease period ahead. */
  takeLeaseCheck(now: number): boolean {
    const nextLease = this.meta.number(NEXT_LEASE);
    if (nextLease === null || nextLease > now) return false;
    this.meta.set(NEXT_LEASE, now + this.leaseMs);
    return true;
  }
}
