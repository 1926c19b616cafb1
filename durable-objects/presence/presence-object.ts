/**
 * What RoomDO and UserDO share: SQLite with a meta table, the presence configuration,
 * announcements sent in decision order through the cluster seam, and one alarm that first
 * applies the grace deadlines that are due, then, every lease period, the lease check.
 */
import { DurableObject } from "cloudflare:workers";
import type { EdgeioBindings } from "../bindings";
import { Sequence } from "../cluster/sequence";
import type { Delivery } from "../cluster/types";
import { configFrom } from "../config";
import { HookRuns } from "../lifecycle/hook-runs";
import type { LifecycleEvents, LifecycleHookName, LifecycleHooks } from "../lifecycle/types";
import { queueWebhook, type WebhookEventType } from "../webhooks/queue";
import { AlarmSchedule } from "./alarm-schedule";
import { type PresenceConfig, presenceConfigFrom } from "./config";
import { MetaTable } from "./meta-table";

export type PresenceEnv = EdgeioBindings & Record<string, unknown>;

export abstract class PresenceObject extends DurableObject<PresenceEnv> {
  protected readonly sql: SqlStorage;
  protected readonly presenceConfig: PresenceConfig;
  protected readonly meta: MetaTable;
  protected readonly schedule: AlarmSchedule;
  private readonly announcements = new Sequence();
  /** The app's lifecycle hooks for the edges this object decides (createWorker passes them in). */
  protected readonly hookRuns: HookRuns;

  /**
   * `schema`: the object's own tables (CREATE … IF NOT EXISTS); `metaTable`: its key/value table's
   * name; `hooks`: the app's lifecycle hooks (none for the classes exported as they are).
   */
  constructor(ctx: DurableObjectState, env: PresenceEnv, storage: { schema: string; metaTable: string }, hooks: LifecycleHooks = {}) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.presenceConfig = presenceConfigFrom(env);
    this.sql.exec(storage.schema);
    this.meta = new MetaTable(this.sql, storage.metaTable);
    this.schedule = new AlarmSchedule(ctx.storage, this.meta, this.presenceConfig.leaseMs);
    this.hookRuns = new HookRuns(hooks, {
      sql: this.sql,
      env,
      waitUntil: (promise) => ctx.waitUntil(promise),
      reschedule: () => this.scheduleAlarm(),
    });
  }

  /**
   * An edge this object decided: the app's hook is stored (synchronously, so it commits with the
   * decision) and run, and the webhook of the same name, if any, is queued.
   */
  protected edge<K extends LifecycleHookName>(hook: K, event: LifecycleEvents[K], webhook?: WebhookEventType): Promise<void> {
    this.hookRuns.record(hook, event);
    return webhook ? queueWebhook(this.env, webhook, event as unknown as Record<string, unknown>) : Promise.resolve();
  }

  /**
   * How long a host may go without renewing before its entries here expire: 3 renewals. A host
   * renews from its heartbeat alarm, so a renewal may come up to a ping round after it is due.
   */
  protected get leaseExpiryMs(): number {
    const { pingInterval, pingTimeout } = configFrom(this.env);
    return 3 * (this.presenceConfig.leaseMs + pingInterval + pingTimeout);
  }

  /** Starts an announcement once every earlier one has settled, so events leave in the order they were decided. */
  protected announceInOrder(start: () => Delivery): void {
    this.ctx.waitUntil(this.announcements.run(start));
  }

  async alarm(): Promise<void> {
    const now = Date.now();
    try {
      await this.applyDeadlines(now);
      await this.hookRuns.runDue(now);
      if (this.schedule.takeLeaseCheck(now)) await this.checkLeases(now);
    } finally {
      await this.scheduleAlarm();
    }
  }

  /** Applies the grace deadlines due at `now` (announces the leaves that are final). */
  protected abstract applyDeadlines(now: number): Promise<void>;
  /** Drops sockets (held since before `now`) whose host no longer has them (crashed or evicted mid-leave). */
  protected abstract checkLeases(now: number): Promise<void>;
  /** Sets the alarm for the next grace deadline or lease check (see AlarmSchedule). */
  protected abstract scheduleAlarm(): Promise<void>;
}
