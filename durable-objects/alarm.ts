/** The one-alarm-per-object rule: every Durable Object here keeps its single alarm at the earliest deadline. */

/** Sets, moves or deletes the alarm so that it fires at `next` (null: no alarm); skips no-op writes. */
export async function setAlarmAt(storage: DurableObjectStorage, next: number | null, current?: number | null): Promise<void> {
  const scheduled = current !== undefined ? current : await storage.getAlarm();
  if (next === scheduled) return;
  if (next === null) await storage.deleteAlarm();
  else await storage.setAlarm(next);
}
