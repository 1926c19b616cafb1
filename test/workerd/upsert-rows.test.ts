/**
 * Keys written again and again are upserts, one row billed each time (issue 11): a RoomDO's or
 * UserDO's meta key (its alarm time, on every alarm) and a conflated stream's row (on every
 * commit). `INSERT OR REPLACE` deletes and inserts: 2 rows written. Counted from the runtime's
 * own cursor counts, inside a Durable Object.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BilledWork, CountingSql } from "../../durable-objects/billed-work";
import { ConflationStore } from "../../durable-objects/conflation-store";
import { MetaTable } from "../../durable-objects/presence/meta-table";
import type { EmitOp } from "../../durable-objects/socketio/types";

/** The storage's SQL, with the rows written by every statement run through it added up (read once the caller consumed each). */
function countingWrites(sql: SqlStorage) {
  const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
  const counted = {
    exec(query: string, ...bindings: SqlStorageValue[]) {
      const cursor = sql.exec(query, ...bindings);
      cursors.push(cursor);
      return cursor;
    },
  } as unknown as SqlStorage;
  const written = {
    get rows() {
      return cursors.reduce((total, cursor) => total + cursor.rowsWritten, 0);
    },
  };
  return { sql: counted, written };
}

const stub = (name: string) => env.ROOM.get(env.ROOM.idFromName(name));

describe("keys written again are one row each", () => {
  it("MetaTable.set of an existing key", async () => {
    await runInDurableObject(stub("upsert-meta"), (_instance, state) => {
      const { sql, written } = countingWrites(state.storage.sql);
      const meta = new MetaTable(sql, "upsert_test_meta");
      meta.set("alarm_at", 1);
      const before = written.rows;
      meta.set("alarm_at", 2);
      meta.set("alarm_at", 3);
      expect(written.rows - before).toBe(2);
      expect(meta.number("alarm_at")).toBe(3);
      meta.set("alarm_at", null);
      expect(meta.get("alarm_at")).toBeNull();
    });
  });

  it("a conflated stream's row, rewritten on each commit", async () => {
    await runInDurableObject(stub("upsert-conflation"), (_instance, state) => {
      const { sql, written } = countingWrites(state.storage.sql);
      const values = new Map<string, string | number>();
      const meta = {
        getMeta: <T extends string | number>(key: string) => (values.get(key) as T | undefined) ?? null,
        setMeta: (key: string, value: string | number | null) => void (value === null ? values.delete(key) : values.set(key, value)),
      };
      const store = new ConflationStore(new CountingSql(sql, new BilledWork()), meta);
      const op = (n: number): EmitOp => ({
        kind: "emit",
        target: { nsp: "/", rooms: ["r"], except: [] },
        frames: [`42["tick",${n}]`],
        conflate: { key: "AAPL", intervalMs: 100, event: "tick" },
      });
      store.save("r:tick", 1_000, op(1));
      const before = written.rows;
      store.save("r:tick", 1_100, op(2));
      store.save("r:tick", 1_200, op(3));
      expect(written.rows - before).toBe(2);
      const rows = store.loadAll();
      expect(rows).toHaveLength(1);
      expect(rows[0].dueAt).toBe(1_200);
      expect(rows[0].op.frames).toEqual(['42["tick",3]']);
    });
  });
});
