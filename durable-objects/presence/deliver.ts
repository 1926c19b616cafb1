/**
 * Helpers RoomDO and UserDO share: sending one event to chosen sockets with one call per
 * host, and asking hosts which of their sockets are still alive (the lease check).
 */
import { hostStub, type EdgeioBindings } from "../bindings";
import { encodePacket, PacketType } from "../../protocol/socketio-codec";
import type { Target } from "../socketio/types";

/** Emits `event` to the sockets matching `target` on each of `hosts` (each host selects its own). */
export async function emitOnHosts(env: EdgeioBindings, hosts: Iterable<string>, target: Target, event: string, payload: unknown): Promise<void> {
  const frames = encodePacket({ type: PacketType.EVENT, nsp: target.nsp, data: [event, payload] });
  await Promise.all(
    [...new Set(hosts)].map((host) =>
      hostStub(env, host)
        .apply({ kind: "emit", target, frames })
        .catch((error: unknown) => console.error(`edgeio: presence delivery to ${host} failed`, error)),
    ),
  );
}

const CHUNK = 1_000;

/**
 * The socket ids (of `byHost`) whose host says they are gone. A host that cannot be asked
 * is skipped this round: only a host's own answer may expire its sockets.
 */
export async function deadSockets(env: EdgeioBindings, byHost: Map<string, string[]>): Promise<string[]> {
  const dead: string[] = [];
  await Promise.all(
    [...byHost].map(async ([host, ids]) => {
      for (let i = 0; i < ids.length; i += CHUNK) {
        const chunk = ids.slice(i, i + CHUNK);
        try {
          const alive = new Set(await hostStub(env, host).aliveSockets(chunk));
          for (const id of chunk) if (!alive.has(id)) dead.push(id);
        } catch (error) {
          console.error(`edgeio: lease check on ${host} failed`, error);
        }
      }
    }),
  );
  return dead;
}

export function groupByHost(rows: Array<{ socket_id: string; host: string }>): Map<string, string[]> {
  const byHost = new Map<string, string[]>();
  for (const row of rows) {
    const list = byHost.get(row.host) ?? [];
    list.push(row.socket_id);
    byHost.set(row.host, list);
  }
  return byHost;
}
