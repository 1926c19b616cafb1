/**
 * Internal headers (x-edgeio-*) are the edge's to set. A client that sends them itself changes
 * nothing: a plain GET claiming to be the Worker's held-poll channel is still an ordinary poll
 * (before, the host answered it with the channel's WebSocket upgrade), and a claimed host or
 * address does not reach the host.
 */
import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { engineUrl, PollingSession } from "../../workerd/engine-client";

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
});
