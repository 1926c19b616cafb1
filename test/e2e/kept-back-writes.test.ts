/**
 * Kept-back WebSocket sessions with real socket.io-client (host-store.ts): a session whose CONNECT
 * wrote nothing stays in its WebSocket's attachment until a write of its own needs its rows, not
 * until its host writes anything at all. Before the eleventh round of issue 11, any write on the
 * host (a long-polling client's handshake, join, leave, close) first wrote every kept-back session
 * there: 3 rows each. One host (HOST_POOL_SIZE=1), its billed-work counts from `/_edgeio/hosts`.
 */
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connect, hostOf } from "../helpers/clients";
import { startService, type RunningService } from "../helpers/service";

/** WebSocket clients that only connect: their sessions are kept back. */
const IDLE = 20;
/** A kept-back session's rows when written: the session's, its socket's and that socket's index entry. */
const ROWS_PER_SESSION = 3;

let service: RunningService;
const sockets: Socket[] = [];

beforeAll(async () => {
  service = await startService({ vars: { HOST_POOL_SIZE: 1 } });
}, 90_000);

afterAll(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await service?.stop();
});

interface HostEntry {
  host: string;
  instanceId: string;
  sessions: number;
  work: { rowsWritten: number };
}

async function hostEntry(host: string): Promise<HostEntry> {
  const all = (await (await fetch(`${service.url}/_edgeio/hosts?colo=${host.split(":")[0]}`)).json()) as HostEntry[];
  const entry = all.find((candidate) => candidate.host === host);
  if (!entry) throw new Error(`no stats for ${host}`);
  return entry;
}

it("WebSocket sessions that change nothing are not written by a long-polling client's handshake, join, leave and close on their host", async () => {
  for (let i = 0; i < IDLE; i++) sockets.push(await connect(service.url, { transports: ["websocket"] }));
  const host = hostOf(sockets[0]);
  expect(sockets.every((socket) => hostOf(socket) === host)).toBe(true);
  const before = await hostEntry(host);

  const poller = await connect(service.url, { transports: ["polling"] });
  expect(hostOf(poller)).toBe(host);
  await poller.timeout(5000).emitWithAck("join", "polling-room");
  await poller.timeout(5000).emitWithAck("leave", "polling-room");
  poller.close();
  // Its session gone (the service's readiness probe, a polling handshake that never connects, may still count).
  for (let i = 0; i < 50 && (await hostEntry(host)).sessions > before.sessions; i++)
    await new Promise((resolve) => setTimeout(resolve, 100));

  const after = await hostEntry(host);
  expect(after.instanceId).toBe(before.instanceId); // the counts are per instance
  expect(after.sessions).toBeLessThanOrEqual(before.sessions);
  // The poller's own rows (its session, socket, membership, queued frames and their deletes) and
  // an alarm record or two: fewer than the idle sessions' rows would be if they were written
  // (measured: 21 rows; 81 on the code before, which wrote the 20 idle sessions too).
  const written = after.work.rowsWritten - before.work.rowsWritten;
  expect(written).toBeGreaterThan(0);
  expect(written).toBeLessThan(IDLE * ROWS_PER_SESSION);
  // Every idle session still answers, from memory and its attachment.
  for (const socket of sockets) expect(await socket.timeout(5000).emitWithAck("count")).toBe(0);
}, 60_000);
