/**
 * Runs an app's lifecycle hooks in the RoomDO / UserDO that decides each edge, at least once,
 * as webhooks are delivered: the call is stored in the object's SQLite in the same turn as the
 * decision (so it commits with it), run at once in the background, removed once the hook
 * returns, and otherwise retried by the object's alarm with backoff, up to MAX_ATTEMPTS. The
 * row is stored as due IN_FLIGHT_MS later, so a crash or eviction mid-run is retried too. An app
 * without hooks pays nothing: no row is written for an edge no hook listens to.
 */
import type { EdgeioBindings } from "../bindings";
import { clusterEmitter } from "./cluster-emitter";
import type { LifecycleEvents, LifecycleHookName, LifecycleHooks } from "./types";

export const MAX_ATTEMPTS = 5;
/** How long one hook call may take before it counts as failed (and is retried). */
export const HOOK_TIMEOUT_MS = 10_000;
/** A stored call not confirmed by then is retried by the alarm (its run crashed or hung). */
const IN_FLIGHT_MS = 30_000;
const RETRY_BASE_MS = 1_000;

const SCHEMA = `CREATE TABLE IF NOT EXISTS lifecycle_hook_calls (
  id INTEGER PRIMARY KEY AUTOINCREMENT, hook TEXT NOT NULL, event TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, due INTEGER NOT NULL)`;

interface CallRow {
  id: number;
  hook: string;
  event: string;
  attempts: number;
  [key: string]: SqlStorageValue;
}

export interface HookRunsHost {
  sql: SqlStorage;
  env: EdgeioBindings & Record<string, unknown>;
  waitUntil(promise: Promise<unknown>): void;
  /** Recomputes the object's one alarm (it includes `nextDue()`). */
  reschedule(): Promise<void>;
}

export class HookRuns {
  private chain: Promise<void> = Promise.resolve();
  /** Without hooks there is no table, and nothing is ever stored, read or run. */
  private readonly enabled: boolean;

  constructor(
    private readonly hooks: LifecycleHooks,
    private readonly host: HookRunsHost,
  ) {
    this.enabled = Object.values(hooks).some((hook) => typeof hook === "function");
    if (this.enabled) host.sql.exec(SCHEMA);
  }

  /** Stores a call of `hook` (if the app has it) and starts it in the background. Synchronous: commits with the caller's writes. */
  record<K extends LifecycleHookName>(hook: K, event: LifecycleEvents[K]): void {
    if (typeof this.hooks[hook] !== "function") return;
    this.host.sql.exec(
      "INSERT INTO lifecycle_hook_calls (hook, event, due) VALUES (?, ?, ?)",
      hook,
      JSON.stringify(event),
      Date.now() + IN_FLIGHT_MS,
    );
    this.host.waitUntil(this.drain(null));
  }

  /** The alarm: runs the calls that are due (retries, and calls whose first run never ended). */
  runDue(now: number): Promise<void> {
    return this.enabled ? this.drain(now) : Promise.resolve();
  }

  /** When the earliest stored call is due (null: none). */
  nextDue(): number | null {
    if (!this.enabled) return null;
    return this.host.sql.exec<{ at: number | null }>("SELECT MIN(due) AS at FROM lifecycle_hook_calls").one().at;
  }

  /** Runs stored calls one at a time, in the order they were decided (`now` null: the ones never tried). */
  private drain(now: number | null): Promise<void> {
    const run = this.chain.then(async () => {
      const rows =
        now === null
          ? this.host.sql.exec<CallRow>("SELECT * FROM lifecycle_hook_calls WHERE attempts = 0 ORDER BY id").toArray()
          : this.host.sql.exec<CallRow>("SELECT * FROM lifecycle_hook_calls WHERE due <= ? ORDER BY id", now).toArray();
      for (const row of rows) await this.runOne(row);
      if (rows.length > 0) await this.host.reschedule();
    });
    this.chain = run.catch((error: unknown) => console.error("edgeio: lifecycle hooks", error));
    return this.chain;
  }

  private async runOne(row: CallRow): Promise<void> {
    // Another run may have finished it meanwhile (the alarm and a fresh edge overlap).
    const current = this.host.sql.exec<{ attempts: number }>("SELECT attempts FROM lifecycle_hook_calls WHERE id = ?", row.id).toArray()[0];
    if (!current || current.attempts !== row.attempts) return;
    const attempt = row.attempts + 1;
    this.host.sql.exec("UPDATE lifecycle_hook_calls SET attempts = ?, due = ? WHERE id = ?", attempt, Date.now() + IN_FLIGHT_MS, row.id);
    const hook = this.hooks[row.hook as LifecycleHookName] as ((event: unknown, context: unknown) => unknown) | undefined;
    try {
      if (hook) {
        const context = { env: this.host.env, emitter: clusterEmitter(this.host.env), attempt };
        await withTimeout(
          Promise.resolve().then(() => hook(JSON.parse(row.event), context)),
          HOOK_TIMEOUT_MS,
        );
      }
      this.host.sql.exec("DELETE FROM lifecycle_hook_calls WHERE id = ?", row.id);
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS) {
        console.error(`edgeio: lifecycle hook ${row.hook} failed ${attempt} times, given up`, error);
        this.host.sql.exec("DELETE FROM lifecycle_hook_calls WHERE id = ?", row.id);
        return;
      }
      console.error(`edgeio: lifecycle hook ${row.hook} failed (attempt ${attempt}), retried later`, error);
      this.host.sql.exec("UPDATE lifecycle_hook_calls SET due = ? WHERE id = ?", Date.now() + RETRY_BASE_MS * 2 ** (attempt - 1), row.id);
    }
  }
}

/** A race timer for one call in flight (as the cluster's per-host calls have), not a scheduled wake: those are the alarm's. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
