/**
 * The lease check RoomDO and UserDO run from their alarms: which of the sockets they list are
 * gone from their hosts. A separate RPC (`aliveSockets`) under the same per-call timeout as
 * the operations; a host that fails or does not answer is skipped this round, since only a
 * host's own answer may expire its sockets.
 */
import { type EdgeioBindings, hostStub } from "../bindings";
import { withTimeout } from "./apply";
import { DEFAULT_HOST_TIMEOUT_MS } from "./types";

const CHUNK = 1_000;

export interface HeldSocket {
  socket_id: string;
  host: string;
}

/** The socket ids of `rows` whose host says they are gone. */
export async function deadSockets(env: EdgeioBindings, rows: HeldSocket[], timeoutMs = DEFAULT_HOST_TIMEOUT_MS): Promise<string[]> {
  const dead: string[] = [];
  await Promise.all(
    [...groupByHost(rows)].map(async ([host, ids]) => {
      for (let i = 0; i < ids.length; i += CHUNK) {
        const chunk = ids.slice(i, i + CHUNK);
        const asked = Promise.resolve().then(() => hostStub(env, host).aliveSockets(chunk));
        const answer = await withTimeout(asked, timeoutMs);
        if (!answer.ok) {
          console.error(`edgeio: lease check on ${host} failed: ${answer.error}`);
          continue;
        }
        const alive = new Set(answer.value);
        for (const id of chunk) if (!alive.has(id)) dead.push(id);
      }
    }),
  );
  return dead;
}

function groupByHost(rows: HeldSocket[]): Map<string, string[]> {
  const byHost = new Map<string, string[]>();
  for (const row of rows) {
    const list = byHost.get(row.host) ?? [];
    list.push(row.socket_id);
    byHost.set(row.host, list);
  }
  return byHost;
}
