/**
 * A reconnect with the socket's pid while its old session is still live on its host — the
 * host never noticed the drop (a half-open connection, or a process restart that never
 * reported the close: test/e2e/recovery-restart.test.ts) — recovers (docs/recovery.md):
 * the stale session ends as a transport close and the socket resumes, on the same host and
 * through another host. The old session here is really still open, as a half-open one looks
 * to the host.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connectNamespace, emitWithAck, hostOf, nextEvent, onHost, WebSocketSession } from "./engine-client";
import { connectInWorker } from "./in-worker-client";
import { HOSTS, stubOf } from "./recovery-helpers";

const ACK_MS = 8000;

async function setRecovery(on: boolean): Promise<void> {
  await Promise.all(HOSTS.map((host) => stubOf(host).testRecovery(on ? { maxDisconnectionDuration: 30_000 } : null)));
}

afterEach(() => setRecovery(false));

describe.each(["the same host", "another host"] as const)("a pid reconnect through %s while the old session is live", (where) => {
  it("ends the stale session and resumes the socket with its rooms and data", async () => {
    await setRecovery(true);
    const room = `stale-${crypto.randomUUID()}`;
    const sender = await connectInWorker("/", { mode: "websocket" });
    const client = await connectInWorker("/", { mode: "websocket" });
    await client.timeout(ACK_MS).emitWithAck("join", room);
    await client.timeout(ACK_MS).emitWithAck("set-data", "color", "green");
    const id = client.id!;
    const home = hostOf(id);
    const { _pid: pid } = client as unknown as { _pid: string };
    expect(typeof pid).toBe("string");
    const oldSessionEnded = new Promise<string>((resolve) => client.once("disconnect", resolve));

    // What socket.io-client sends on a new connection after its old one died unnoticed.
    const host = where === "the same host" ? home : HOSTS.find((h) => h !== home)!;
    const conn = await onHost(
      host,
      () => WebSocketSession.handshake(),
      (c) => c.close(),
    );
    const reply = await connectNamespace(conn, "/", { pid });
    expect(JSON.parse(reply.slice(2))).toEqual({ sid: id, pid });
    expect(await oldSessionEnded).toBe("transport close");
    const [state] = (await emitWithAck(conn, ["whoami-recovery"])) as [{ id: string; recovered: boolean; rooms: string[]; data: unknown }];
    expect(state).toMatchObject({ id, recovered: true, data: { color: "green" } });
    expect(state.rooms).toEqual(expect.arrayContaining([id, room]));

    sender.emit("to-room", room, "tick", 1); // the room reaches the socket on its new session
    expect((await nextEvent(conn, "tick")).slice(0, 1)).toEqual([1]);
    conn.close();
    client.close();
    sender.close();
  }, 60_000);
});
