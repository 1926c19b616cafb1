/**
 * Internal headers (x-edgeio-*) are the edge's to set. A client that sends them itself changes
 * nothing: a plain GET claiming to be the Worker's held-poll channel is still an ordinary poll
 * (before, the host answered it with the channel's WebSocket upgrade), and a claimed host or
 * address does not reach the host.
 */
import { runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { HandshakeRecord } from "../../../durable-objects/engine/types";
import type { HostStore } from "../../../durable-objects/host-store";
import { engineUrl, hostOf, hostStubFor, PollingSession } from "../../workerd/engine-client";

/** A direct WebSocket handshake with these request headers: its sid, and the handshake its host recorded. */
async function webSocketHandshake(headers: Record<string, string>): Promise<{ sid: string; record: HandshakeRecord; close(): void }> {
  const response = await SELF.fetch(engineUrl({ EIO: "4", transport: "websocket" }), { headers: { Upgrade: "websocket", ...headers } });
  expect(response.status).toBe(101);
  const ws = response.webSocket!;
  const open = new Promise<string>((resolve) => ws.addEventListener("message", (event) => resolve(event.data as string), { once: true }));
  ws.accept();
  const { sid } = JSON.parse((await open).slice(1)) as { sid: string };
  const stored = await runInDurableObject(
    hostStubFor(sid),
    (host) => (host as unknown as { store: HostStore }).store.session(sid)?.handshake,
  );
  return { sid, record: JSON.parse(stored ?? "null") as HandshakeRecord, close: () => ws.close(1000, "bye") };
}

const sessions: PollingSession[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) {
    await session.send("1").catch(() => undefined);
    await session.stop();
  }
});

describe("internal headers sent by a client", () => {
  it("a GET with x-edgeio-poll-channel is an ordinary poll: 200 with a payload, the session carries on", async () => {
    const session = await PollingSession.handshake();
    sessions.push(session);
    expect(await (await session.post("40")).text()).toBe("ok");
    expect(await (await session.get()).text()).toMatch(/^40\{"sid":/); // nothing queued after this
    // With nothing queued the GET is held; the next ping (pingInterval 300 ms here) answers it.
    const forged = await SELF.fetch(engineUrl({ EIO: "4", transport: "polling", sid: session.sid }), {
      headers: { "x-edgeio-poll-channel": "1", "x-edgeio-host": "evil:9", "x-edgeio-address": "10.0.0.1" },
    });
    expect(forged.status).toBe(200);
    expect(forged.webSocket ?? null).toBeNull();
    expect(await forged.text()).toMatch(/^[26]/); // a ping (or a noop), like any held GET
    // The session is intact and still answers.
    expect(await (await session.post('42["echo","after"]')).text()).toBe("ok");
  });

  it("a forged poll-channel token does not pass for the Worker's own", async () => {
    const session = await PollingSession.handshake();
    sessions.push(session);
    expect(await (await session.post("40")).text()).toBe("ok");
    expect(await (await session.get()).text()).toMatch(/^40\{"sid":/);
    const forged = await SELF.fetch(engineUrl({ EIO: "4", transport: "polling", sid: session.sid }), {
      headers: { "x-edgeio-poll-channel": "0".repeat(64) },
    });
    expect(forged.status).toBe(200);
    expect(forged.webSocket ?? null).toBeNull();
    expect(await forged.text()).toMatch(/^[26]/);
  });

  // The edge forwards a client's WebSocket handshake as it is when it carries no internal header
  // (worker/engine-route.ts); one that carries any is copied without them, as before.
  it("a WebSocket handshake claiming a host and an address lands on a pool host, with the client's own address and no x-edgeio-* header", async () => {
    const claimed = { "x-edgeio-host": "evil:9", "x-edgeio-address": "10.0.0.1", "x-edgeio-poll-channel": "1", "x-edgeio-other": "1" };
    const session = await webSocketHandshake({ ...claimed, "cf-connecting-ip": "203.0.113.7" });
    expect(hostOf(session.sid)).toMatch(/^local:[0-3]$/);
    expect(session.record.address).toBe("203.0.113.7");
    expect(session.record.xdomain).toBe(false); // no Origin header
    expect(Object.keys(session.record.headers).filter((name) => name.startsWith("x-edgeio-"))).toEqual([]);
    session.close();
  });

  it("a WebSocket handshake without internal headers reaches its pool host as it is: the host knows its name and the client's address", async () => {
    const headers = { "cf-connecting-ip": "203.0.113.8", "x-custom": "kept", "x-edgeio-other": "1", origin: "https://app.example" };
    const session = await webSocketHandshake(headers);
    expect(hostOf(session.sid)).toMatch(/^local:[0-3]$/);
    expect(session.record.address).toBe("203.0.113.8");
    expect(session.record.xdomain).toBe(true); // an Origin header (read from the one pass over the headers)
    expect(session.record.headers["x-custom"]).toBe("kept");
    expect(session.record.headers["x-edgeio-other"]).toBeUndefined(); // an internal name the host does not read: dropped there
    session.close();
  });
});
