/**
 * No silent loss on the long-poll path: a held GET whose client goes away (aborted request)
 * must not swallow frames, and the client's next GET is not an overlap.
 */
import { runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { CLOSE_CLIENT_GONE, CLOSE_DELIVERED } from "../../../durable-objects/engine/poll-channels";
import { POLL_CHANNEL_HEADER } from "../../../protocol/internal-headers";
import { busySessions } from "../../../worker/busy-sessions";
import { engineUrl, hostStubFor, nextAckId, PollingSession, sleep } from "../../workerd/engine-client";

const sessions: PollingSession[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.send("1").catch(() => undefined);
});

/** A connected polling session that nobody polls for (the test drives every GET itself). */
async function connected(): Promise<PollingSession> {
  const session = await PollingSession.handshake();
  sessions.push(session);
  await session.send("40");
  let received = "";
  while (!received.includes('42["welcome"')) received += `${await (await session.get()).text()}\x1e`;
  expect(received).toMatch(/^40\{"sid"/);
  return session;
}

/** Whether the host holds a GET of this session in memory (a busy session: worker/busy-sessions.ts). */
function heldInMemory(instance: unknown, session: PollingSession): boolean {
  return (instance as { engine: { polling: { heldInMemory(sid: string): boolean } } }).engine.polling.heldInMemory(session.sid);
}

/** GETs of this session the host holds: on an open, unanswered channel, or in memory. */
function heldGets(session: PollingSession): Promise<number> {
  return runInDurableObject(hostStubFor(session.sid), (instance, state) => {
    const onChannels = state
      .getWebSockets(`poll:${session.sid}`)
      .filter((ws) => ws.readyState === WebSocket.OPEN && (ws.deserializeAttachment() as { upTo?: number }).upTo === undefined).length;
    return onChannels + (heldInMemory(instance, session) ? 1 : 0);
  });
}

/** Where the host holds the session's GET: in memory (busy) or on a channel (idle). */
function heldIn(session: PollingSession): Promise<"memory" | "channel"> {
  return runInDurableObject(hostStubFor(session.sid), (instance) => (heldInMemory(instance, session) ? "memory" : "channel"));
}

/**
 * Starts a GET and resolves once the host holds it, with its abort controller. A GET answered
 * at once (a ping was queued) is consumed and another one started.
 */
async function heldGet(session: PollingSession): Promise<{ controller: AbortController; response: Promise<unknown> }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const controller = new AbortController();
    let answered: string | null = null;
    const response = get(session, controller.signal).then(
      async (r) => (answered = await r.text()),
      (error: unknown) => error,
    );
    for (let i = 0; i < 400 && answered === null; i++) {
      if ((await heldGets(session)) === 1) return { controller, response };
      await sleep(5);
    }
    await response;
    if (answered !== null && (answered as string).split("\x1e").includes("2")) await session.post("3");
  }
  throw new Error("the GET was never held");
}

function get(session: PollingSession, signal?: AbortSignal): Promise<Response> {
  return SELF.fetch(engineUrl({ EIO: "4", transport: "polling", sid: session.sid }), { signal });
}

/** Packets of every GET until `want` acks have been seen (answers pings). */
async function collectAcks(session: PollingSession, want: number): Promise<string[]> {
  const packets: string[] = [];
  for (let round = 0; round < 50 && packets.filter((p) => p.startsWith("43")).length < want; round++) {
    const response = await get(session);
    expect(response.status).toBe(200);
    for (const packet of (await response.text()).split("\x1e")) {
      if (packet === "2") await session.post("3");
      else if (packet !== "6") packets.push(packet);
    }
  }
  return packets;
}

describe("an abandoned held GET", () => {
  // A busy session's GET waits in the host's memory (memory-polls.ts, worker/busy-sessions.ts),
  // an idle one's on a channel (poll-channels.ts): both must give back what came for a client that had gone.
  it.each([
    { where: "memory" as const, trials: 5 },
    { where: "channel" as const, trials: 5 },
  ])(
    "aborted while held in $where: frames flushed afterwards reach the next GET exactly once; the session stays open",
    async ({ where, trials }) => {
      const session = await connected();
      for (let trial = 0; trial < trials; trial++) {
        // Idle, as after BUSY_WINDOW_MS with pongs only (this test runs in the Worker's isolate).
        if (where === "channel") busySessions.forget(session.sid);
        const abandoned = await heldGet(session);
        expect(await heldIn(session)).toBe(where);
        abandoned.controller.abort();
        await abandoned.response;
        // Frames produced after the client went away are flushed into the old hold (if the host
        // has not noticed yet): they must come back with the next GET, exactly once.
        const id = nextAckId();
        await session.send(`42${id}["echo",${trial}]`);
        await sleep(20);
        const packets = await collectAcks(session, 1);
        expect(packets).toEqual([`43${id}[${trial}]`]);
      }
      // Still open: one more round trip.
      const id = nextAckId();
      await session.send(`42${id}["echo","still here"]`);
      expect(await collectAcks(session, 1)).toEqual([`43${id}["still here"]`]);
    },
    15_000,
  );

  it("a GET while another is held supersedes it: the old one gets a noop, the new one the data, no close", async () => {
    const session = await connected();
    const first = await heldGet(session);
    const second = get(session);
    expect(await first.response).toBe("6");
    const id = nextAckId();
    await session.send(`42${id}["echo","x"]`);
    const fresh = await second;
    expect(fresh.status).toBe(200);
    expect(await fresh.text()).toBe(`43${id}["x"]`);
  });
});

/**
 * Holds a GET as the Worker does (a channel straight to the host), sends an event, and resolves
 * with the channel once the event's ack came on it: answered, not yet confirmed.
 */
async function answeredChannel(session: PollingSession, id: number): Promise<WebSocket> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const response = await hostStubFor(session.sid).fetch("https://edgeio.internal/poll-channel", {
      headers: { Upgrade: "websocket", [POLL_CHANNEL_HEADER]: session.sid },
    });
    const channel = response.webSocket;
    if (!channel) {
      // Answered at once (a ping was queued): take it, and hold again.
      if ((await response.text()).split("\x1e").includes("2")) await session.post("3");
      continue;
    }
    channel.accept();
    const payload = new Promise<string>((resolve) => channel.addEventListener("message", (event) => resolve(String(event.data))));
    await session.send(`42${id}["echo","first"]`);
    const packets = (await payload).split("\x1e");
    if (packets.includes("2")) await session.post("3");
    if (packets.includes(`43${id}["first"]`)) return channel;
    channel.close(CLOSE_DELIVERED, "delivered"); // a ping came first: again
  }
  throw new Error("the ack never came on a held channel");
}

describe("a GET that overtakes the confirmation of the previous one", () => {
  it("waits for it: frames the Worker confirmed (CLOSE_DELIVERED) are not served again", async () => {
    const session = await connected();
    const first = nextAckId();
    const channel = await answeredChannel(session, first);
    // The client's next GET reaches the host before the Worker's confirmation does.
    const next = collectAcks(session, 1);
    await sleep(50);
    channel.close(CLOSE_DELIVERED, "delivered");
    const second = nextAckId();
    await session.send(`42${second}["echo","second"]`);
    expect(await next).toEqual([`43${second}["second"]`]);
  });

  it("waits for it: frames whose client went away (CLOSE_CLIENT_GONE) are served by that GET, once", async () => {
    const session = await connected();
    const first = nextAckId();
    const channel = await answeredChannel(session, first);
    const next = collectAcks(session, 1);
    await sleep(50);
    channel.close(CLOSE_CLIENT_GONE, "client gone");
    expect(await next).toEqual([`43${first}["first"]`]);
  });
});
