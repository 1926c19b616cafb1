/**
 * What an idle host costs (issue 11), counted per alarm, never timed. A host whose WebSocket
 * clients only answer pings runs its heartbeat alarm (pings every 300 ms here, pong checks on
 * the grid between) and, once per lease period (1.5 s here), renews its leases and sends its
 * load report keepalive. Each alarm writes at most one row (the alarm record, host-meta.ts: the
 * heartbeat's schedule, the lease and report times and the counters together), reads only that
 * row's key (the upsert; everything else is in memory), and only an alarm that renews the leases calls other objects:
 * the registry, the namespace directory and the stats aggregator, one call each (O(hosts)).
 * Counted inside the host: its own billed-work counts, and every call made through its
 * ROOM and USER bindings.
 */
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import type { BilledWork, SqlCounts } from "../../durable-objects/billed-work";
import type { HostStore } from "../../durable-objects/host-store";
import { eventually, RawClient } from "./presence-client";

const HOST = "idlework:0";
const stub = () => env.CONNECTION_HOST.get(env.CONNECTION_HOST.idFromName(HOST));

type Internals = { work: BilledWork; store: HostStore; env: Record<string, unknown>; alarm(): Promise<void> };

interface AlarmWork {
  sql: SqlCounts;
  /** Calls made on other objects from this alarm (until the next one began). */
  calls: string[];
  renewed: boolean;
}

/** From now on, records each alarm of the host's current instance: its SQL, its calls to other objects, whether it renewed the leases. */
async function watchAlarms(): Promise<AlarmWork[]> {
  const alarms: AlarmWork[] = [];
  await runInDurableObject(stub(), (instance) => {
    const host = instance as unknown as Internals;
    for (const binding of ["ROOM", "USER"]) host.env[binding] = counted(host.env[binding] as Record<string, unknown>, binding, alarms);
    const alarm = host.alarm.bind(host);
    host.alarm = async () => {
      const before = host.work.snapshot().sqlBy.alarm;
      const lease = host.store.getMeta<number>("lease_renewed_at");
      const entry: AlarmWork = { sql: { statements: 0, rowsRead: 0, rowsWritten: 0 }, calls: [], renewed: false };
      alarms.push(entry);
      await alarm();
      const after = host.work.snapshot().sqlBy.alarm;
      entry.sql = {
        statements: after.statements - before.statements,
        rowsRead: after.rowsRead - before.rowsRead,
        rowsWritten: after.rowsWritten - before.rowsWritten,
      };
      entry.renewed = host.store.getMeta<number>("lease_renewed_at") !== lease;
    };
  });
  return alarms;
}

/** Counts every method called on stubs of `binding` (a namespace's get / getByName), for the alarm running then. */
function counted(namespace: Record<string, unknown>, name: string, alarms: AlarmWork[]): Record<string, unknown> {
  return new Proxy(namespace, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      if (property !== "get" && property !== "getByName") return value.bind(target);
      return (...args: unknown[]) => {
        const stubbed = Reflect.apply(value, target, args) as object;
        return new Proxy(stubbed, {
          get(s, method) {
            const fn = Reflect.get(s, method);
            if (typeof fn !== "function" || typeof method !== "string") return fn;
            return (...callArgs: unknown[]) => {
              alarms.at(-1)?.calls.push(`${name}.${method}`);
              return Reflect.apply(fn, s, callArgs);
            };
          },
        });
      };
    },
  });
}

const clients: RawClient[] = [];
afterAll(() => {
  for (const client of clients.splice(0)) client.close();
});

describe("an idle host's alarms", () => {
  it("write at most one row each, read only the record's key, and call other objects only to renew the leases (3 calls per lease period)", async () => {
    for (let i = 0; i < 3; i++) clients.push(await RawClient.open(HOST));
    // Settle: the post-connect load report (500 ms) and the first lease renewal have gone.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const alarms = await watchAlarms();
    // Two lease periods at least (each with its renewal), and the pings and pong checks between.
    await eventually(() => alarms.filter((a) => a.renewed).length >= 3, "three lease renewals", 15_000);
    const window = alarms.slice(0, -1); // the last one's calls may still be coming
    const renewals = window.filter((a) => a.renewed);
    expect(window.length).toBeGreaterThanOrEqual(10);
    expect(renewals.length).toBeGreaterThanOrEqual(2);
    for (const a of window) {
      // The alarm record's upsert (its key looked up: one row read); a renewal also lists the host's room memberships (none here).
      expect(a.sql.rowsWritten).toBeLessThanOrEqual(1);
      expect(a.sql.statements).toBeLessThanOrEqual(a.renewed ? 2 : 1);
      expect(a.sql.rowsRead).toBeLessThanOrEqual(a.renewed ? 2 : 1);
    }
    for (const a of window.filter((a) => !a.renewed)) expect(a.calls).toEqual([]);
    for (const a of renewals) expect(a.calls.sort()).toEqual(["ROOM.renew", "ROOM.renew", "ROOM.reportLoad"]);
    expect(clients.every((client) => client.ws.readyState === WebSocket.OPEN)).toBe(true);
  }, 30_000);

  it("keeps its heartbeat and counters across an eviction (all in the alarm record), and the new instance calls no object but at a renewal", async () => {
    const before = await stub().stats();
    await evictDurableObject(stub());
    // The new instance's first alarm brings the sessions back from their attachments: not a load
    // change, so no report goes out for it (it used to, 500 ms later: one wake and call per hibernation).
    const alarms = await watchAlarms();
    await eventually(() => alarms.length >= 12, "twelve alarms", 10_000);
    for (const a of alarms.slice(0, -1).filter((a) => !a.renewed)) expect(a.calls).toEqual([]);
    // Pings went on in the new instance: the clients answer them, so none was closed for a ping timeout.
    const after = await stub().stats();
    expect(after.instanceId).not.toBe(before.instanceId);
    expect(after.constructions).toBe(before.constructions + 1);
    expect(after.alarms).toBeGreaterThanOrEqual(before.alarms + 12);
    expect(after.sessions).toBe(3);
    for (const client of clients) await client.call("rooms");
  }, 30_000);

  it("sessions back from their attachments have no connect deadline once connected (no wake each)", async () => {
    const host = "idlework:1";
    const hostStub = env.CONNECTION_HOST.get(env.CONNECTION_HOST.idFromName(host));
    clients.push(await RawClient.open(host));
    await evictDurableObject(hostStub); // within the connect timeout (1 s): the deadline is still ahead
    const deadline = await runInDurableObject(hostStub, (instance) => {
      const inside = instance as unknown as { engine: { closeOrphans(): void }; store: HostStore };
      inside.engine.closeOrphans();
      return { sessions: inside.store.sessionCount(), deadline: inside.store.earliestConnectDeadline() };
    });
    expect(deadline).toEqual({ sessions: 1, deadline: null });
  });
});
