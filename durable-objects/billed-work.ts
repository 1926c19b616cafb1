/**
 * The work a ConnectionHost is billed for in production, counted in memory (never stored, so
 * counting costs nothing): invocations of the object by kind, SQL statements, SQLite rows read
 * and written (the runtime's own `rowsRead` / `rowsWritten` of each cursor), alarm writes, and
 * storage commits. Commits are an estimate: the runtime coalesces the writes of one event into
 * one implicit transaction, so an invocation that wrote anything counts as one commit.
 * Reported per instance by `ConnectionHost.stats()` (the bench and the work-count tests read it).
 */

/** `stats` is the stats RPC itself (its lazy counter flush included), kept apart from billed work. */
export type InvocationKind = "fetch" | "webSocketMessage" | "webSocketClose" | "webSocketError" | "alarm" | "rpc" | "stats";

export interface SqlCounts {
  statements: number;
  rowsRead: number;
  rowsWritten: number;
}

export interface BilledWorkCounts {
  invocations: Record<InvocationKind, number>;
  /** SQL by the kind of invocation that ran it (approximate when invocations interleave). */
  sqlBy: Record<InvocationKind | "construction", SqlCounts>;
  statements: number;
  rowsRead: number;
  rowsWritten: number;
  /** setAlarm / deleteAlarm calls that reached storage. */
  alarmWrites: number;
  /** Estimated: invocations that wrote rows or moved the alarm (one implicit transaction each). */
  commits: number;
}

export class BilledWork {
  private readonly counts: BilledWorkCounts = {
    invocations: { fetch: 0, webSocketMessage: 0, webSocketClose: 0, webSocketError: 0, alarm: 0, rpc: 0, stats: 0 },
    sqlBy: {
      construction: zero(),
      fetch: zero(),
      webSocketMessage: zero(),
      webSocketClose: zero(),
      webSocketError: zero(),
      alarm: zero(),
      rpc: zero(),
      stats: zero(),
    },
    statements: 0,
    rowsRead: 0,
    rowsWritten: 0,
    alarmWrites: 0,
    commits: 0,
  };
  /** Writes since the current invocation began (decides whether it committed). */
  private writesInInvocation = 0;
  private current: InvocationKind | "construction" = "construction";

  /** An entry point of the object runs: counts it, and the commit of the one before if it wrote. */
  invoked(kind: InvocationKind): void {
    this.settle();
    this.counts.invocations[kind] += 1;
    this.current = kind;
  }

  /** One statement's cursor, once consumed. */
  statement(rowsRead: number, rowsWritten: number): void {
    this.counts.statements += 1;
    this.counts.rowsRead += rowsRead;
    this.counts.rowsWritten += rowsWritten;
    const by = this.counts.sqlBy[this.current];
    by.statements += 1;
    by.rowsRead += rowsRead;
    by.rowsWritten += rowsWritten;
    if (rowsWritten > 0) this.writesInInvocation += 1;
  }

  alarmWritten(): void {
    this.counts.alarmWrites += 1;
    this.writesInInvocation += 1;
  }

  /** A copy of the counts so far (the current invocation's commit included). */
  snapshot(): BilledWorkCounts {
    this.settle();
    const sqlBy = Object.fromEntries(Object.entries(this.counts.sqlBy).map(([kind, counts]) => [kind, { ...counts }]));
    return { ...this.counts, invocations: { ...this.counts.invocations }, sqlBy: sqlBy as BilledWorkCounts["sqlBy"] };
  }

  private settle(): void {
    if (this.writesInInvocation > 0) this.counts.commits += 1;
    this.writesInInvocation = 0;
  }
}

function zero(): SqlCounts {
  return { statements: 0, rowsRead: 0, rowsWritten: 0 };
}

/** A cursor already read to its end: its rows and the runtime's counts for the statement. */
export interface ReadCursor<T> {
  toArray(): T[];
  one(): T;
  readonly rowsRead: number;
  readonly rowsWritten: number;
}

/** Runs SQL and counts what each statement read and wrote (every cursor is read at once). */
export class CountingSql {
  constructor(
    private readonly sql: SqlStorage,
    private readonly work: BilledWork,
  ) {}

  exec<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: SqlStorageValue[]): ReadCursor<T> {
    const cursor = this.sql.exec<T>(query, ...bindings);
    const rows = cursor.toArray();
    const { rowsRead, rowsWritten } = cursor;
    this.work.statement(rowsRead, rowsWritten);
    return {
      toArray: () => rows,
      one: () => {
        if (rows.length !== 1) throw new Error(`expected exactly one row, got ${rows.length}`);
        return rows[0];
      },
      rowsRead,
      rowsWritten,
    };
  }
}
