/**
 * Connection-state recovery across a restart of the local service (issue 12, docs/recovery.md):
 * real socket.io-client 4.x clients over WebSocket and over polling are in a room with
 * socket.data set when `wrangler dev` is stopped, and started again on the same port and the
 * same persisted state. The host never heard the connections end (its process died); the
 * clients reconnect on their own and come back as themselves: same id, `recovered === true`,
 * rooms and data intact, and events emitted after the restart reach them. While the service is
 * down, `POST /v1/emit` does not answer at all (no 2xx): those events are not delivered.
 * An event emitted after the restart but before a client reconnects reaches it too: the host
 * finds the session's WebSocket gone when it sends, suspends the socket and logs the event.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "socket.io-client";
import { afterAll, expect, it } from "vitest";
import { connect } from "../helpers/clients";
import { freePort, type RunningService, startService } from "../helpers/service";

const KEY = "api-key-recovery-restart-0001";
const stateDir = mkdtempSync(join(tmpdir(), "edgeio-restart-"));
let service: RunningService | undefined;
const clients: Socket[] = [];

afterAll(async () => {
  for (const client of clients) client.close();
  await service?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function start(port: number): Promise<RunningService> {
  return startService({
    environment: "test",
    port,
    stateDir,
    vars: { RECOVERY_MAX_DISCONNECTION_MS: 30_000, API_KEYS: KEY },
  });
}

function emit(url: string, room: string, n: number): Promise<Response> {
  return fetch(`${url}/v1/emit`, {
    method: "POST",
    headers: { "content-type": "application/json", Authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ event: "tick", rooms: [room], args: [n] }),
  });
}

/** Resolves once `check` holds, polling every 20 ms (rejects after `ms`). */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type Whoami = { id: string; recovered: boolean; rooms: string[]; data: Record<string, unknown> };

it("clients over WebSocket and polling come back as themselves after wrangler dev restarts on the same state", async () => {
  const port = await freePort();
  service = await start(port);
  const room = `restart-${Math.random().toString(36).slice(2)}`;
  const transports = ["websocket", "polling"] as const;
  const ticks = new Map<Socket, number[]>();
  for (const transport of transports) {
    const client = await connect(service.url, {
      transports: [transport],
      reconnection: true,
      reconnectionDelay: 300,
      reconnectionDelayMax: 1000,
      randomizationFactor: 0,
    });
    clients.push(client);
    const seen: number[] = [];
    ticks.set(client, seen);
    client.on("tick", (n: number) => seen.push(n));
    await client.timeout(5000).emitWithAck("join", room);
    await client.timeout(5000).emitWithAck("set-data", "transport", transport);
  }
  expect((await emit(service.url, room, 1)).status).toBe(200);
  await until(() => clients.every((client) => ticks.get(client)!.length === 1), 5000, "the tick before the restart");
  const before = clients.map((client) => client.id);
  const reasons = clients.map((client) => new Promise<string>((resolve) => client.once("disconnect", resolve)));

  await service.stop();
  service = undefined;
  // The clients notice on their own (no close from the server: its process is gone).
  for (const reason of await Promise.all(reasons)) expect(reason).toMatch(/^transport (close|error)$/);
  // While it is down the HTTP API does not answer: the emit is refused, nothing got a 2xx.
  await expect(emit(`http://127.0.0.1:${port}`, room, 2)).rejects.toThrow();

  const back = clients.map((client) => new Promise<void>((resolve) => client.once("connect", () => resolve())));
  service = await start(port);
  await Promise.all(back);
  expect(clients.map((client) => client.id)).toEqual(before);
  expect(clients.map((client) => client.recovered)).toEqual([true, true]);
  for (const [index, client] of clients.entries()) {
    const state = (await client.timeout(5000).emitWithAck("whoami-recovery")) as Whoami;
    expect(state).toMatchObject({ id: before[index], recovered: true, data: { transport: transports[index] } });
    expect(state.rooms).toEqual(expect.arrayContaining([before[index], room]));
  }

  // Still in the room: an emit after the restart reaches both, once.
  const answer = await emit(service.url, room, 3);
  expect(answer.status).toBe(200);
  expect(await answer.json()).toMatchObject({ ok: true, sockets: 2 });
  await until(() => clients.every((client) => ticks.get(client)!.length === 2), 5000, "the tick after the restart");
  for (const client of clients) expect(await client.timeout(5000).emitWithAck("whoami-recovery")).toBeTruthy();
  for (const client of clients) expect(ticks.get(client)).toEqual([1, 3]);
}, 90_000);

it("an event emitted after the restart, before the WebSocket client reconnects, is delivered on its resume", async () => {
  for (const client of clients.splice(0)) client.close();
  const port = Number(new URL(service!.url).port);
  const room = `restart-late-${Math.random().toString(36).slice(2)}`;
  // No automatic reconnection: the client comes back only once the emit below was answered.
  const client = await connect(service!.url, { transports: ["websocket"], reconnection: false });
  clients.push(client);
  const seen: number[] = [];
  client.on("tick", (n: number) => seen.push(n));
  await client.timeout(5000).emitWithAck("join", room);
  expect((await emit(service!.url, room, 1)).status).toBe(200);
  await until(() => seen.length === 1, 5000, "the tick before the restart");
  const id = client.id;
  const dropped = new Promise<string>((resolve) => client.once("disconnect", resolve));

  await service!.stop();
  service = undefined;
  expect(await dropped).toMatch(/^transport (close|error)$/);
  service = await start(port);
  // The restarted host still lists the session as live; its WebSocket is gone.
  const answer = await emit(service.url, room, 2);
  expect(answer.status).toBe(200);
  expect(await answer.json()).toMatchObject({ ok: true, sockets: 1 });

  const back = new Promise<void>((resolve) => client.once("connect", () => resolve()));
  client.connect();
  await back;
  expect(client.id).toBe(id);
  expect(client.recovered).toBe(true);
  // A round trip after the CONNECT reply: the missed events came before it.
  expect(await client.timeout(5000).emitWithAck("whoami-recovery")).toBeTruthy();
  expect(seen).toEqual([1, 2]);
}, 90_000);
