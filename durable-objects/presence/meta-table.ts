/** A small key/value table in a Durable Object's SQLite (RoomDO's `room_meta`, UserDO's `user_meta`). */
export class MetaTable {
  constructor(
    private readonly sql: SqlStorage,
    private readonly table: string,
  ) {
    // The name is ours, never input; checked anyway since it is spliced into SQL.
    if (!/^[a-z_]+$/.test(table)) throw new Error(`bad meta table name ${table}`);
    sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, value TEXT)`);
  }

  get(key: string): string | null {
    return this.sql.exec<{ value: string | null }>(`SELECT value FROM ${this.table} WHERE key = ?`, key).toArray()[0]?.value ?? null;
  }

  number(key: string): number | null {
    const value = this.get(key);
    return value === null ? null : Number(value);
  }

  /**
   * Stores `value`; null deletes the key. An upsert: a key written again (a RoomDO's alarm time,
   * on every alarm) is one row written, where `INSERT OR REPLACE` deletes and inserts (two billed).
   */
  set(key: string, value: string | number | null): void {
    if (value === null) this.sql.exec(`DELETE FROM ${this.table} WHERE key = ?`, key);
    else
      this.sql.exec(
        `INSERT INTO ${this.table} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        key,
        String(value),
      );
  }

  /** Stores `value` unless the key already has one. */
  setIfAbsent(key: string, value: string): void {
    this.sql.exec(`INSERT OR IGNORE INTO ${this.table} (key, value) VALUES (?, ?)`, key, value);
  }
}
