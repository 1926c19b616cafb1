/**
 * A ConnectionHost's metadata (host_meta): one row per key, read once per instance and kept in
 * step by write-through, except for what the alarm changes every time it runs. Those values
 * (the heartbeat's schedule, the load report and lease times) and the stats counters (wakes,
 * alarms, …) live together in one row, the alarm record, so an idle host's alarm writes one row
 * however many of them moved (issue 11: an idle host's cost is its alarm's writes). They must
 * survive eviction: a host hibernates between heartbeat alarms, and its next alarm runs in a new
 * instance that knows only what is stored.
 *
 * The record is written when a value in it changes, at once, or once at the end of a `batch`
 * (the alarm runs in one). Counters are counted in memory and added to the record lazily
 * (`flushCounters`: once per alarm, and by the stats RPC), so a wake that changes nothing
 * writes nothing.
 */
import type { CountingSql } from "./billed-work";

export type MetaValue = string | number | null;

/** The alarm record's key in host_meta. */
export const ALARM_RECORD = "alarm_record";

/** Values kept in the alarm record rather than in rows of their own. */
const RECORD_KEYS = new Set(["ping_done", "ping_rounds", "eio3_next_check_at", "stats_reported_at", "lease_renewed_at"]);

/** Counters written by hosts before the alarm record, each in a row of its own (read once, then kept in the record). */
const LEGACY_COUNTER = /^(?:constructions|wakes|alarms|volatile_dropped|closed_for:.+)$/;

interface AlarmRecord {
  values: Record<string, string | number>;
  counts: Record<string, number>;
}

export class HostMeta {
  private meta: Map<string, MetaValue> | null = null;
  private record: AlarmRecord | null = null;
  /** Counter increments not yet added to the record. */
  private readonly pendingCounts = new Map<string, number>();
  private dirty = false;
  private batching = 0;

  constructor(private readonly sql: CountingSql) {}

  get<T extends string | number>(key: string): T | null {
    const record = this.loaded().record;
    const pending = this.pendingCounts.get(key);
    const counted = record.counts[key];
    if (pending !== undefined || counted !== undefined) return ((counted ?? 0) + (pending ?? 0)) as T;
    if (RECORD_KEYS.has(key)) return (record.values[key] ?? null) as T | null;
    return (this.loaded().meta.get(key) ?? null) as T | null;
  }

  set(key: string, value: MetaValue): void {
    const { meta, record } = this.loaded();
    if (RECORD_KEYS.has(key)) {
      if ((record.values[key] ?? null) === value) return;
      if (value === null) delete record.values[key];
      else record.values[key] = value;
      this.changed();
      return;
    }
    if (meta.has(key) && meta.get(key) === value) return;
    this.upsert(key, value);
    meta.set(key, value);
  }

  delete(key: string): void {
    if (RECORD_KEYS.has(key)) {
      this.set(key, null);
      return;
    }
    const { meta } = this.loaded();
    if (meta.has(key)) this.sql.exec("DELETE FROM host_meta WHERE key = ?", key);
    meta.delete(key);
  }

  /** Adds 1 to a counter, in memory until the next `flushCounters`. */
  bump(key: string): void {
    this.pendingCounts.set(key, (this.pendingCounts.get(key) ?? 0) + 1);
  }

  /** Adds the counted increments to the record (one row written, however many moved). */
  flushCounters(): void {
    if (this.pendingCounts.size === 0) return;
    const { record } = this.loaded();
    for (const [key, pending] of this.pendingCounts) record.counts[key] = (record.counts[key] ?? 0) + pending;
    this.pendingCounts.clear();
    this.changed();
  }

  /** Runs `body` with the record's writes held back, then writes it once if anything in it changed. */
  batch<T>(body: () => T): T {
    this.batching += 1;
    try {
      return body();
    } finally {
      this.batching -= 1;
      if (this.batching === 0 && this.dirty) this.write();
    }
  }

  private changed(): void {
    this.dirty = true;
    if (this.batching === 0) this.write();
  }

  private write(): void {
    this.dirty = false;
    this.upsert(ALARM_RECORD, JSON.stringify(this.record));
  }

  /** An upsert: one row written (INSERT OR REPLACE deletes and inserts: two rows billed, one read). */
  private upsert(key: string, value: MetaValue): void {
    this.sql.exec("INSERT INTO host_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value);
  }

  /** Reads host_meta once per instance; a host from before the record has its values and counters folded in. */
  private loaded(): { meta: Map<string, MetaValue>; record: AlarmRecord } {
    if (!this.meta || !this.record) {
      const rows = this.sql.exec<{ key: string; value: MetaValue }>("SELECT key, value FROM host_meta").toArray();
      this.meta = new Map(rows.map((row) => [row.key, row.value]));
      const stored = this.meta.get(ALARM_RECORD);
      this.meta.delete(ALARM_RECORD);
      this.record = typeof stored === "string" ? (JSON.parse(stored) as AlarmRecord) : { values: {}, counts: {} };
      if (stored === undefined) {
        for (const [key, value] of this.meta) {
          if (value === null) continue;
          if (RECORD_KEYS.has(key)) this.record.values[key] = value;
          else if (LEGACY_COUNTER.test(key) && typeof value === "number") this.record.counts[key] = value;
        }
      }
    }
    return { meta: this.meta, record: this.record };
  }
}
