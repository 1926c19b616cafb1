/**
 * What the workerd recovery tests share: the local host pool, each host's stub, a polling
 * wait, and reads of a host's recovery tables from inside the object.
 */
import { env, runInDurableObject } from "cloudflare:test";

export const HOSTS = ["local:0", "local:1", "local:2", "local:3"];
export const stubOf = (host: string) => env.CONNECTION_HOST.get(env.CONNECTION_HOST.idFromName(host));

export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Packets a host keeps for its suspended sockets (its SQLite, read in the object). */
export function loggedOn(host: string, socketId?: string): Promise<number> {
  return runInDurableObject(stubOf(host), (_instance, state) => {
    const tables = state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'recovery_log'").toArray();
    if (tables.length === 0) return 0;
    // One socket's log: sockets an earlier test of the file left suspended (its window is 30 s) may share the host.
    const count =
      socketId === undefined
        ? state.storage.sql.exec("SELECT COUNT(*) AS n FROM recovery_log")
        : state.storage.sql.exec("SELECT COUNT(*) AS n FROM recovery_log WHERE socket_id = ?", socketId);
    return count.one().n as number;
  });
}

/** Whether `host` has socket `id` suspended (1) or not (0). */
export function suspendedOn(host: string, id: string): Promise<number> {
  return runInDurableObject(stubOf(host), (_instance, state) => {
    const tables = state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'recovery_sockets'").toArray();
    if (tables.length === 0) return 0;
    return state.storage.sql.exec("SELECT COUNT(*) AS n FROM recovery_sockets WHERE socket_id = ?", id).one().n as number;
  });
}
