/**
 * Where a ConnectionHost keeps conflated values it holds (cluster/host-conflation.ts), so that
 * an eviction or restart does not lose them: one row per stream, rewritten on each commit,
 * deleted once sent. The table is created on first use and read back only on hosts that ever
 * conflated (a host_meta flag), so other hosts pay nothing for it.
 */
import { pollingFrameToWebSocket, toPollingFrame } from "../protocol/engine-codec";
import type { CountingSql } from "./billed-work";
import type { ConflationStorage } from "./cluster/host-conflation";
import type { HostStore } from "./host-store";
import type { EmitOp } from "./socketio/types";

const USED = "conflation_used";

interface StoredOp {
  target: EmitOp["target"];
  frames: string[];
  volatile: boolean;
  conflate: NonNullable<EmitOp["conflate"]>;
}

export class ConflationStore implements ConflationStorage {
  private ready = false;

  constructor(
    private readonly sql: CountingSql,
    private readonly meta: Pick<HostStore, "getMeta" | "setMeta">,
  ) {}

  loadAll(): ReturnType<ConflationStorage["loadAll"]> {
    if (this.meta.getMeta<number>(USED) !== 1) return [];
    this.ensure();
    return this.sql
      .exec<{ stream: string; due_at: number; op: string }>("SELECT stream, due_at, op FROM conflation")
      .toArray()
      .map((row) => {
        const stored = JSON.parse(row.op) as StoredOp;
        const op: EmitOp = {
          kind: "emit",
          target: stored.target,
          frames: stored.frames.map(pollingFrameToWebSocket),
          volatile: stored.volatile,
          conflate: stored.conflate,
        };
        return { stream: row.stream, dueAt: row.due_at, intervalMs: stored.conflate.intervalMs, op, bytes: row.op.length };
      });
  }

  save(stream: string, dueAt: number, op: EmitOp): void {
    if (!op.conflate) return;
    this.ensure();
    const stored: StoredOp = {
      target: op.target,
      frames: op.frames.map(toPollingFrame),
      volatile: op.volatile === true,
      conflate: op.conflate,
    };
    // An upsert: a stream's row is written again on each commit, one row billed (INSERT OR REPLACE: two).
    this.sql.exec(
      "INSERT INTO conflation (stream, due_at, op) VALUES (?, ?, ?) ON CONFLICT (stream) DO UPDATE SET due_at = excluded.due_at, op = excluded.op",
      stream,
      dueAt,
      JSON.stringify(stored),
    );
  }

  remove(streams: string[]): void {
    if (!this.ready && this.meta.getMeta<number>(USED) !== 1) return;
    this.ensure();
    for (const stream of streams) this.sql.exec("DELETE FROM conflation WHERE stream = ?", stream);
  }

  private ensure(): void {
    if (this.ready) return;
    this.sql.exec("CREATE TABLE IF NOT EXISTS conflation (stream TEXT PRIMARY KEY, due_at INTEGER NOT NULL, op TEXT NOT NULL)");
    this.meta.setMeta(USED, 1);
    this.ready = true;
  }
}
