/**
 * A host stays in a namespace's directory for one lease period after its last socket there
 * leaves (durable-objects/socketio/namespace-linger.ts), with real socket.io-client 4.x against
 * `wrangler dev`. One host (HOST_POOL_SIZE=1), a short lease. `POST /v1/emit` answers how many
 * hosts the directory listed and how many sockets matched. Right after a client leaves, the host
 * is still listed with no socket. The next client is reached as soon as it connects. Once the
 * host has had no socket for a lease period, the directory no longer lists it.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { connect, hostOf, nextEventArgs } from "../helpers/clients";
import { type RunningService, startService } from "../helpers/service";

const LEASE_MS = 2000;
const KEY = "api-key-namespace-linger-0001";
let service: RunningService;

beforeAll(async () => {
  service = await startService({ vars: { HOST_POOL_SIZE: 1, PRESENCE_LEASE_MS: LEASE_MS, API_KEYS: KEY } });
}, 90_000);

afterAll(async () => {
  await service?.stop();
});

/** A namespace-wide emit: the hosts the namespace's directory listed, and the sockets that matched. */
async function emitToAll(event: string): Promise<{ hosts: number; sockets: number }> {
  const response = await fetch(`${service.url}/v1/emit`, {
    method: "POST",
    headers: { "content-type": "application/json", Authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ event, args: [{ at: Date.now() }] }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { hosts: number; sockets: number };
}

async function socketsOn(host: string): Promise<number> {
  const all = (await (await fetch(`${service.url}/_edgeio/hosts?colo=${host.split(":")[0]}`)).json()) as Array<{
    host: string;
    sockets: number;
  }>;
  return all.find((entry) => entry.host === host)?.sockets ?? 0;
}

async function until(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it("a host stays listed for a lease period after its last socket leaves, reaches the next client, then leaves", async () => {
  const first = await connect(service.url, { transports: ["websocket"] });
  const host = hostOf(first);
  expect(await emitToAll("warm")).toMatchObject({ hosts: 1, sockets: 1 });
  first.close();
  await until(async () => (await socketsOn(host)) === 0, "the first client's socket to go");

  // No socket on the host, and the directory still lists it.
  expect(await emitToAll("nobody")).toEqual({ ok: true, rooms: 0, hosts: 1, sockets: 0 });

  // The next client, on the same host, is reached by a namespace-wide emit.
  const next = await connect(service.url, { transports: ["websocket"] });
  expect(hostOf(next)).toBe(host);
  const received = nextEventArgs(next, "after");
  expect(await emitToAll("after")).toMatchObject({ hosts: 1, sockets: 1 });
  expect(await received).toHaveLength(1);
  next.close();

  // A lease period with no socket: the host leaves the directory.
  await until(async () => (await emitToAll("later")).hosts === 0, "the host to leave the directory", LEASE_MS * 8);
}, 60_000);
