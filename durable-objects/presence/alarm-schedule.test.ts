import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AlarmSchedule } from "./alarm-schedule";

const LEASE = 1_000;
const NOW = 1_700_000_000_000;

/** An in-memory meta table and alarm: what the schedule reads and writes. */
function fixture(alarm: number | null = null) {
  const values = new Map<string, number>();
  const meta = {
    number: (key: string) => values.get(key) ?? null,
    set: (key: string, value: string | number | null) => void (value === null ? values.delete(key) : values.set(key, Number(value))),
  };
  const storage = {
    alarm,
    writes: 0,
    async getAlarm() {
      return this.alarm;
    },
    async setAlarm(at: number) {
      this.alarm = at;
      this.writes++;
    },
    async deleteAlarm() {
      this.alarm = null;
      this.writes++;
    },
  };
  const schedule = new AlarmSchedule(storage as unknown as DurableObjectStorage, meta, LEASE);
  return { schedule, storage, values };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
});
afterEach(() => {
  vi.useRealTimers();
});

describe("AlarmSchedule", () => {
  it("sets the alarm at the earliest deadline when nothing is held", async () => {
    const { schedule, storage, values } = fixture();
    await schedule.schedule([NOW + 500, null, NOW + 200], false);
    expect(storage.alarm).toBe(NOW + 200);
    expect(values.has("next_lease_at")).toBe(false);
  });

  it("while sockets are held, keeps a lease check one lease period ahead, set once", async () => {
    const { schedule, storage, values } = fixture();
    await schedule.schedule([null], true);
    expect(storage.alarm).toBe(NOW + LEASE);
    vi.setSystemTime(NOW + 300);
    await schedule.schedule([NOW + 5_000], true);
    expect(storage.alarm).toBe(NOW + LEASE);
    expect(values.get("next_lease_at")).toBe(NOW + LEASE);
    await schedule.schedule([NOW + 400], true);
    expect(storage.alarm).toBe(NOW + 400);
  });

  it("forgets the lease check and deletes the alarm once nothing is held or due", async () => {
    const { schedule, storage, values } = fixture();
    await schedule.schedule([], true);
    await schedule.schedule([null, null], false);
    expect(storage.alarm).toBeNull();
    expect(values.has("next_lease_at")).toBe(false);
  });

  it("does not rewrite an alarm that is already right", async () => {
    const { schedule, storage } = fixture(NOW + 200);
    await schedule.schedule([NOW + 200], false);
    expect(storage.writes).toBe(0);
  });

  it("says when the lease check is due, and moves the next one a lease period ahead", async () => {
    const { schedule, values } = fixture();
    expect(schedule.takeLeaseCheck(NOW)).toBe(false);
    await schedule.schedule([], true);
    expect(schedule.takeLeaseCheck(NOW + LEASE - 1)).toBe(false);
    expect(schedule.takeLeaseCheck(NOW + LEASE)).toBe(true);
    expect(values.get("next_lease_at")).toBe(NOW + 2 * LEASE);
    expect(schedule.takeLeaseCheck(NOW + LEASE)).toBe(false);
  });
});
