/**
 * A RoomDO answers `hosts()` — asked once per broadcast — from memory: no SQLite row read per
 * broadcast. The copy is loaded once per instance and written through, so an eviction loses
 * nothing (the next instance reloads it) and changes are seen at once.
 */
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { type EdgeioBindings, roomStub } from "../../durable-objects/bindings";
import type { RoomDO } from "../../durable-objects/room";

const bindings = env as unknown as EdgeioBindings;

/** Rows read and statements run by `hosts()` called `times` times inside the room (its own SQLite counted). */
async function hostsWork(
  room: DurableObjectStub<RoomDO>,
  times: number,
): Promise<{ hosts: string[]; statements: number; rowsRead: number }> {
  return runInDurableObject(room, (instance: RoomDO, state) => {
    const sql = state.storage.sql;
    const exec = sql.exec.bind(sql);
    let statements = 0;
    let rowsRead = 0;
    const counted = (query: string, ...bindings: unknown[]) => {
      statements += 1;
      const cursor = exec(query, ...bindings);
      const rows = cursor.toArray();
      rowsRead += cursor.rowsRead;
      return { toArray: () => rows, one: () => rows[0], rowsRead: cursor.rowsRead, rowsWritten: cursor.rowsWritten };
    };
    sql.exec = counted as typeof sql.exec;
    try {
      let hosts: string[] = [];
      for (let i = 0; i < times; i++) hosts = instance.hosts();
      return { hosts, statements, rowsRead };
    } finally {
      sql.exec = exec;
    }
  });
}

it("answers hosts() from memory: no row read per broadcast, written through, reloaded after an eviction", async () => {
  const room = roomStub(bindings, "/", "memory:room");
  for (const host of ["mem:0", "mem:1", "mem:2"]) await room.addHost(host, { nsp: "/", room: "memory:room" });
  await room.hosts(); // whatever is loaded once per instance is loaded now

  const warm = await hostsWork(room, 10);
  expect(new Set(warm.hosts)).toEqual(new Set(["mem:0", "mem:1", "mem:2"]));
  expect(warm).toMatchObject({ statements: 0, rowsRead: 0 });

  // Written through: a removal and an addition are seen at once, still without reading rows.
  await room.removeHost("mem:1");
  await room.addHost("mem:3");
  const changed = await hostsWork(room, 10);
  expect(new Set(changed.hosts)).toEqual(new Set(["mem:0", "mem:2", "mem:3"]));
  expect(changed.rowsRead).toBe(0);

  // A new instance reloads the table: the same hosts, then again nothing read per call.
  await evictDurableObject(room);
  expect(new Set(await room.hosts())).toEqual(new Set(["mem:0", "mem:2", "mem:3"]));
  const reloaded = await hostsWork(room, 10);
  expect(new Set(reloaded.hosts)).toEqual(new Set(["mem:0", "mem:2", "mem:3"]));
  expect(reloaded.rowsRead).toBe(0);
});
