/**
 * The demo chat and the client-shim in a real browser (Debian's Chromium via playwright-core)
 * against the real service (`wrangler dev` with the root wrangler.toml: default app + the
 * static assets in public/). Each run leaves screenshots in test-results/.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startService, type RunningService } from "../helpers/service";
import { buildClientBundle, launchChromium, pageLog, screenshot } from "../browser/chromium";

const SERVICE = { config: "wrangler.toml", vars: { PRESENCE_GRACE_MS: 0 } };
const WAIT = { timeout: 15_000 };

let service: RunningService;
let browser: Browser;
const contexts: BrowserContext[] = [];
const logs = new Map<Page, string[]>();

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
  contexts.push(context);
  return pageIn(context);
}

async function pageIn(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  logs.set(page, pageLog(page));
  return page;
}

/** Opens the demo, signs in with `name` and waits until the first room is joined. */
async function signIn(page: Page, name: string, query = ""): Promise<void> {
  await page.goto(`${service.url}/${query}`);
  await page.fill("#name", name);
  await page.click("#login button[type=submit]");
  await online(page);
  await presenceEntry(page, name).waitFor(WAIT);
}

const online = (page: Page) => page.waitForFunction(() => document.querySelector("#status")?.textContent === "online", null, WAIT);
const presenceEntry = (page: Page, name: string) =>
  page.locator("#presence li", { has: page.locator(".name", { hasText: new RegExp(`^${name}$`) }) });
const message = (page: Page, text: string) => page.locator("#messages li.message", { hasText: text });
const transport = (page: Page) => page.textContent("#transport");

async function send(page: Page, text: string): Promise<void> {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

function describeFailure(page: Page): string {
  return `page log:\n${(logs.get(page) ?? []).join("\n")}\nservice output (tail):\n${service.output().slice(-3000)}`;
}

beforeAll(async () => {
  buildClientBundle();
  service = await startService(SERVICE);
  browser = await launchChromium();
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await service?.stop();
});

describe("demo chat in Chromium", () => {
  let alice: Page;
  let bob: Page;

  it("serves the demo and the client bundle as static assets", async () => {
    const html = await fetch(`${service.url}/`);
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toMatch(/text\/html/);
    expect(await html.text()).toContain('<script src="/edgeio-client.js">');
    const bundle = await fetch(`${service.url}/edgeio-client.js`);
    expect(bundle.status).toBe(200);
    expect(await bundle.text()).toContain("EdgeIO");
    // The Worker still owns its paths.
    const handshake = await fetch(`${service.url}/socket.io/?EIO=4&transport=polling`);
    expect(handshake.status).toBe(200);
    expect((await handshake.text()).startsWith("0{")).toBe(true);
  });

  it("two browser contexts chat; presence and typing indicators update", async () => {
    alice = await newPage();
    bob = await newPage();
    await signIn(alice, "alice");
    await signIn(bob, "bob");

    try {
      await presenceEntry(alice, "bob").waitFor(WAIT);
      await presenceEntry(bob, "alice").waitFor(WAIT);
    } catch (error) {
      throw new Error(`${error}\n${describeFailure(alice)}`);
    }
    expect(await alice.textContent("#counts")).toBe("2 users · 2 devices");
    expect(await presenceEntry(alice, "bob").locator(".devices").textContent()).toBe("1 device");

    // Typing shows up on the other side, then the message replaces it.
    await bob.locator("#text").pressSequentially("hel");
    await alice.waitForFunction(() => document.querySelector("#typing")?.textContent === "bob is typing…", null, WAIT);
    await presenceEntry(alice, "bob").locator(".typing-dot").waitFor(WAIT);
    await screenshot(alice, "browser-chat-typing");
    await bob.fill("#text", "hello alice");
    await bob.press("#text", "Enter");
    await message(alice, "hello alice").waitFor(WAIT);
    await alice.waitForFunction(() => document.querySelector("#typing")?.textContent === "", null, WAIT);
    expect(await message(alice, "hello alice").locator(".author").textContent()).toBe("bob");

    await send(alice, "hi bob");
    await message(bob, "hi bob").waitFor(WAIT);
    // The sender sees its own message once (local echo, the server does not echo it back).
    expect(await message(alice, "hi bob").count()).toBe(1);

    // The default transport upgrades to WebSocket.
    await alice.waitForFunction(() => document.querySelector("#transport")?.textContent === "websocket", null, WAIT);
    await screenshot(alice, "browser-chat-alice");
  });

  it("counts a second tab as a connection of the same device, and another profile as a new device", async () => {
    // Tabs of one browser profile share the shim's localStorage device id. The room announces
    // devices (not tabs), so the second tab's own join ack shows both connections.
    const aliceTab = await pageIn(alice.context());
    await signIn(aliceTab, "alice");
    await aliceTab.waitForFunction(() => document.querySelector("#presence li[data-connections='2']") !== null, null, WAIT);
    expect(await presenceEntry(aliceTab, "alice").locator(".devices").textContent()).toBe("1 device");
    const deviceIds = await aliceTab.evaluate(() =>
      window.demo.room.presence.find((e) => e.user.name === "alice")!.metas.map((m) => m.deviceId),
    );
    expect(new Set(deviceIds).size).toBe(1);
    expect(deviceIds[0]).toBe(await alice.evaluate(() => localStorage.getItem("edgeio:deviceId")));

    // A second browser profile is a second device: everyone in the room hears presence:update.
    const alicePhone = await newPage();
    await signIn(alicePhone, "alice");
    await bob.waitForFunction(() => document.querySelector("#presence li[data-devices='2']") !== null, null, WAIT);
    expect(await presenceEntry(bob, "alice").locator(".devices").textContent()).toBe("2 devices");
    expect(await bob.textContent("#counts")).toBe("2 users · 3 devices");
    await screenshot(bob, "browser-chat-bob-devices");

    await alicePhone.context().close();
    // Wait on the totals: bob's own entry already shows "1 device", alice's must drop to it too.
    await bob.waitForFunction(() => document.querySelector("#counts")?.textContent === "2 users · 2 devices", null, WAIT);
    expect(await presenceEntry(bob, "alice").locator(".devices").textContent()).toBe("1 device");
    await aliceTab.close();
  });

  it("works in polling-only mode (no WebSocket is opened)", async () => {
    const websockets: string[] = [];
    alice.on("websocket", (ws) => websockets.push(ws.url()));
    await alice.check("#polling-only");
    await online(alice);
    expect(new URL(alice.url()).searchParams.get("transport")).toBe("polling");
    await presenceEntry(alice, "bob").waitFor(WAIT);
    expect(await transport(alice)).toBe("polling");

    await send(alice, "over long-polling");
    await message(bob, "over long-polling").waitFor(WAIT);
    await send(bob, "back to the poller");
    await message(alice, "back to the poller").waitFor(WAIT);

    expect(await alice.evaluate(() => window.demo.socket.io.engine.transport.name)).toBe("polling");
    expect(await transport(alice)).toBe("polling");
    expect(websockets).toEqual([]);
  });

  it("reconnects after the server goes away and keeps working", { timeout: 90_000 }, async () => {
    const before = await alice.evaluate(() => window.demo.socket.id);
    const port = service.port;
    await service.stop();
    for (const page of [alice, bob]) {
      await page.waitForFunction(() => document.querySelector("#status")?.textContent === "reconnecting", null, WAIT);
      // Offline, the shim empties the room's presence list (set before the status changes).
      expect(await page.locator("#presence li").count()).toBe(0);
    }
    service = await startService({ ...SERVICE, port });

    await online(alice);
    await online(bob);
    expect(await alice.evaluate(() => window.demo.socket.id)).not.toBe(before);
    await alice.locator("#messages li.system", { hasText: "reconnected" }).first().waitFor(WAIT);
    // The shim re-joins the room on the new connection. The lists were emptied offline, so alice
    // listing bob means her re-join was acked (or, a member again, she heard bob's presence:join)
    // and bob is in the room, and the other way round: only then can a relay from bob reach alice.
    await presenceEntry(alice, "bob").waitFor(WAIT);
    await presenceEntry(bob, "alice").waitFor(WAIT);
    await send(bob, "still here after the restart");
    await message(alice, "still here after the restart").waitFor(WAIT);
    await send(alice, "me too");
    await message(bob, "me too").waitFor(WAIT);
    expect(await transport(alice)).toBe("polling");
    await screenshot(alice, "browser-chat-after-reconnect");
  });

  it("switches rooms", async () => {
    await bob.fill("#new-room", "random-2");
    await bob.press("#new-room", "Enter");
    await bob.waitForFunction(() => document.querySelector("#room-title")?.textContent === "# random-2", null, WAIT);
    await presenceEntry(bob, "bob").waitFor(WAIT);
    await alice.waitForFunction(() => !document.querySelector("#presence")?.textContent?.includes("bob"), null, WAIT);
    // The counts arrive with the room's presence snapshot and later updates: wait for them to settle.
    await bob
      .waitForFunction(() => document.querySelector("#counts")?.textContent === "1 user · 1 device", null, WAIT)
      .catch(() => undefined);
    expect(await bob.textContent("#counts")).toBe("1 user · 1 device");
  });
});

describe("client-shim helpers in the page", () => {
  it("refreshes a rejected token, joins rooms with live presence, relays and sets presence state", async () => {
    const page = await newPage();
    await page.goto(`${service.url}/`);
    const result = await page.evaluate(async () => {
      const { EdgeIO } = window;
      const until = async (check: () => boolean, what: string) => {
        for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
        if (!check()) throw new Error(`never: ${what}`);
      };
      const tokenFor = async (name: string) => {
        const response = await fetch("/dev/token", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name }),
        });
        return (await response.json()) as { token: string; user: { id: string; name: string } };
      };
      const carol = await tokenFor("carol");
      const reasons: string[] = [];
      const errors: Array<{ message: string; code?: string }> = [];
      type Chat = { "message:new": { text: string } };
      const a = EdgeIO.connect(location.origin, {
        getToken: (reason) => {
          reasons.push(reason);
          return reason === "initial" ? "not-a-jwt" : carol.token;
        },
      });
      a.on("connect_error", (error: Error & { data?: { code?: string } }) =>
        errors.push({ message: error.message, code: error.data?.code }),
      );
      await new Promise((resolve) => a.once("connect", () => resolve(null)));

      const dave = await tokenFor("dave");
      const b = EdgeIO.connect(location.origin, {
        token: dave.token,
        deviceId: "dave-phone",
        transports: ["websocket"],
      });
      await new Promise((resolve) => b.once("connect", () => resolve(null)));

      const roomA = a.room<Chat>("shim-room");
      const joinA = await roomA.join();
      const seen: string[] = [];
      roomA.on("presence:join", (event) => seen.push(`join:${event.user.name}`));
      roomA.on("presence:leave", (event) => seen.push(`leave:${event.user.name}`));
      const roomB = b.room<Chat>("shim-room");
      const joinB = await roomB.join();
      await until(() => roomA.presence.length === 2, "dave in carol's presence");

      const received = new Promise<unknown>((resolve) => roomA.on("message:new", resolve));
      roomB.emit("message:new", { text: "from dave" });
      const relayed = await received;

      const setReply = await b.setPresence({ status: "busy" });
      const daveState = () => roomA.presence.find((e) => e.user.name === "dave")?.metas[0]?.state as { status?: string } | undefined;
      await until(() => daveState()?.status === "busy", "dave's presence state");
      const daveMeta = roomA.presence.find((e) => e.user.name === "dave")!.metas[0];

      const leaveReply = await roomB.leave();
      await until(() => roomA.presence.length === 1, "dave leaving");
      const result = {
        reasons,
        errors,
        deviceId: a.deviceId,
        storedDeviceId: localStorage.getItem("edgeio:deviceId"),
        joinA: joinA.ok
          ? {
              ok: true,
              users: joinA.presence.map((e) => e.user.name),
              deviceIds: joinA.presence.flatMap((e) => e.metas.map((m) => m.deviceId)),
            }
          : joinA,
        joinB: joinB.ok ? { ok: true, counts: joinB.counts } : joinB,
        relayed,
        setReply,
        daveMeta: { deviceId: daveMeta.deviceId, memberId: daveMeta.memberId, state: daveMeta.state },
        daveSocketId: b.id,
        leaveReply,
        seen,
        finalPresence: roomA.presence.map((e) => e.user.name),
        counts: roomA.counts,
      };
      a.disconnect();
      b.disconnect();
      return result;
    });

    expect(result.reasons).toEqual(["initial", "refresh"]);
    expect(result.errors).toEqual([{ message: "unauthorized", code: "invalid_token" }]);
    expect(result.storedDeviceId).toBe(result.deviceId);
    expect(result.joinA).toEqual({ ok: true, users: ["carol"], deviceIds: [result.deviceId] });
    expect(result.joinB).toEqual({ ok: true, counts: { connections: 2, users: 2 } });
    expect(result.relayed).toMatchObject({ text: "from dave", room: "shim-room", user: { name: "dave" } });
    expect(result.setReply).toEqual({ ok: true });
    expect(result.daveMeta).toEqual({ deviceId: "dave-phone", memberId: expect.any(String), state: { status: "busy" } });
    expect(result.daveMeta.memberId).not.toBe(result.daveSocketId);
    expect(result.leaveReply).toEqual({ ok: true, room: "shim-room" });
    expect(result.seen).toEqual(["join:dave", "leave:dave"]);
    expect(result.finalPresence).toEqual(["carol"]);
    expect(result.counts).toEqual({ users: 1, connections: 1 });
    await screenshot(page, "browser-shim-page");
  });
});
