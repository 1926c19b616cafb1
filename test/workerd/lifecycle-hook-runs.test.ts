/**
 * How lifecycle hook calls are run (durable-objects/lifecycle/hook-runs.ts), inside a Durable
 * Object's SQLite: stored with the decision, run once, deleted; a hook that throws is retried
 * from the alarm with backoff (at least once) and dropped after MAX_ATTEMPTS; an edge no hook
 * listens to stores nothing. Clocks are passed in, so no test waits for a backoff.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { EdgeioBindings } from "../../durable-objects/bindings";
import { MAX_TARGET_NAMESPACES } from "../../durable-objects/cluster/namespaces";
import { clusterEmitter } from "../../durable-objects/lifecycle/cluster-emitter";
import { HookRuns, MAX_ATTEMPTS } from "../../durable-objects/lifecycle/hook-runs";
import type { LifecycleHooks } from "../../durable-objects/lifecycle/types";

const user = { id: "7", name: "Ann" };

/** Runs `body` in a fresh object with HookRuns over its SQLite; `settle` awaits the background runs. */
async function withHookRuns(
  name: string,
  hooks: LifecycleHooks,
  body: (runs: HookRuns, sql: SqlStorage, settle: () => Promise<void>) => Promise<void>,
) {
  const stub = env.ROOM.get(env.ROOM.idFromName(`hook-runs-test:${name}`));
  await runInDurableObject(stub, async (_instance, state) => {
    const pending: Promise<unknown>[] = [];
    let reschedules = 0;
    const runs = new HookRuns(hooks, {
      sql: state.storage.sql,
      env: env as unknown as ConstructorParameters<typeof HookRuns>[1]["env"],
      waitUntil: (promise) => pending.push(promise),
      reschedule: async () => {
        reschedules++;
      },
    });
    await body(runs, state.storage.sql, async () => {
      await Promise.all(pending.splice(0));
      expect(reschedules).toBeGreaterThan(0); // the alarm is recomputed after each run
    });
  });
}

const stored = (sql: SqlStorage) => sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM lifecycle_hook_calls").one().n;

describe("lifecycle hook runs", () => {
  it("stores the call synchronously, runs it once with an emitter and attempt 1, then deletes it", async () => {
    const calls: unknown[] = [];
    const hooks: LifecycleHooks = {
      userOnline: (event, context) => {
        calls.push({ event, attempt: context.attempt, emitter: typeof context.emitter.of(["/", "/admin"]).emit });
      },
    };
    await withHookRuns("once", hooks, async (runs, sql, settle) => {
      runs.record("userOnline", { user, devices: ["laptop"] });
      runs.record("roomVacated", { nsp: "/", room: "lobby" }); // no such hook: nothing stored
      expect(stored(sql)).toBe(1);
      expect(runs.nextDue()).toBeGreaterThan(Date.now()); // the alarm's safety net while it runs
      await settle();
      expect(calls).toEqual([{ event: { user, devices: ["laptop"] }, attempt: 1, emitter: "function" }]);
      expect(stored(sql)).toBe(0);
      expect(runs.nextDue()).toBeNull();
    });
  });

  it("retries a hook that throws from the alarm, with a growing delay, until it succeeds", async () => {
    const attempts: number[] = [];
    const hooks: LifecycleHooks = {
      roomOccupied: (_event, { attempt }) => {
        attempts.push(attempt);
        if (attempt < 3) throw new Error("not yet");
      },
    };
    await withHookRuns("retry", hooks, async (runs, sql, settle) => {
      runs.record("roomOccupied", { nsp: "/", room: "lobby" });
      await settle();
      expect(attempts).toEqual([1]);
      const firstDue = runs.nextDue()!;
      await runs.runDue(firstDue - 1); // not due yet: nothing runs
      expect(attempts).toEqual([1]);
      await runs.runDue(firstDue);
      expect(attempts).toEqual([1, 2]);
      const secondDue = runs.nextDue()!;
      expect(secondDue - Date.now()).toBeGreaterThan(firstDue - Date.now()); // backoff grows
      await runs.runDue(secondDue);
      expect(attempts).toEqual([1, 2, 3]);
      expect(stored(sql)).toBe(0);
    });
  });

  it(`drops a call after ${MAX_ATTEMPTS} failed attempts`, async () => {
    let runsSeen = 0;
    const hooks: LifecycleHooks = {
      userOffline: () => {
        runsSeen++;
        throw new Error("always");
      },
    };
    await withHookRuns("drop", hooks, async (runs, sql, settle) => {
      runs.record("userOffline", { user });
      await settle();
      for (let due = runs.nextDue(); due !== null; due = runs.nextDue()) await runs.runDue(due);
      expect(runsSeen).toBe(MAX_ATTEMPTS);
      expect(stored(sql)).toBe(0);
    });
  });

  it("an app without hooks stores nothing (no table)", async () => {
    await withHookRuns("none", {}, async (runs, sql) => {
      const errors = vi.spyOn(console, "error");
      runs.record("userOnline", { user, devices: [] });
      await runs.runDue(Date.now()); // the alarm of an object without hooks: nothing to read
      expect(errors).not.toHaveBeenCalled();
      errors.mockRestore();
      expect(runs.nextDue()).toBeNull();
      expect(sql.exec("SELECT name FROM sqlite_master WHERE name = 'lifecycle_hook_calls'").toArray()).toEqual([]);
    });
  });
});

describe("the hooks' emitter", () => {
  const emitter = () => clusterEmitter(env as unknown as EdgeioBindings);

  it("refuses bad targets and unsendable events before sending anything", () => {
    expect(() => emitter().of([])).toThrow(RangeError);
    expect(() => emitter().of(Array.from({ length: MAX_TARGET_NAMESPACES + 1 }, (_, i) => `/n${i}`))).toThrow(/1 to 16 namespaces/);
    expect(() => emitter().to("")).toThrow(TypeError);
    expect(() => emitter().of(["/", "/admin"]).emit("connect")).toThrow(/reserved/);
    expect(() => emitter().emit("ok", () => {})).toThrow(TypeError);
  });

  it("answers per namespace, summed (no sockets here: 0 of each)", async () => {
    const result = await emitter().of(["/", "admin", "/admin"]).to("nobody-is-here").emit("ping");
    expect(result).toEqual({ rooms: 1, hosts: 0, sockets: 0 });
  });
});
