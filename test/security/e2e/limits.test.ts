/**
 * Per-session limits against the real service (`wrangler dev`, HOST_POOL_SIZE=1 so every
 * session shares one host): each limit gives its documented error and closes (or refuses)
 * only the offending session, while a control client on the same host keeps its acked echoes
 * answered (0 failures) within a loose safety bound.
 */

import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../helpers/clients";
import { withControls as withControlsOn } from "../../helpers/controls";
import { type RunningService, startService } from "../../helpers/service";

let service: RunningService;

/** Runs `attack` while a WebSocket and a polling control client echo on the same host (test/helpers/controls.ts). */
const withControls = async (attack: () => Promise<void>) => {
  await withControlsOn(service.url, attack);
};

const engine = (query: string) => `${service.url}/socket.io/?EIO=4&${query}`;

async function rawPolling(): Promise<{ sid: string; post(body: string): Promise<Response>; get(): Promise<string> }> {
  const open = await (await fetch(engine("transport=polling"))).text();
  const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid;
  return {
    sid,
    post: (body) => fetch(engine(`transport=polling&sid=${sid}`), { method: "POST", body }),
    get: async () => {
      const response = await fetch(engine(`transport=polling&sid=${sid}`));
      return response.status === 200 ? response.text() : `status ${response.status}`;
    },
  };
}

/** GETs until the session is gone; true when it ended with a close packet or unknown sid. */
async function closedSession(session: { get(): Promise<string> }): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    const body = await session.get();
    if (body.startsWith("status 400") || body.split("\x1e").includes("1")) return true;
  }
  return false;
}

/** The colo part of the pool's host names ("dfw:0" → "dfw"), read from a sid. */
let colo = "local";

async function hostStats() {
  const [stats] = (await (await fetch(`${service.url}/_edgeio/hosts?colo=${colo}`)).json()) as Array<{
    volatileDropped: number;
    closedForLimits: Record<string, number>;
    sockets: number;
  }>;
  return stats;
}

beforeAll(async () => {
  service = await startService({
    vars: { HOST_POOL_SIZE: 1, MAX_NAMESPACES_PER_SESSION: 1, MAX_ROOMS_PER_SOCKET: 4, MAX_PENDING_ACKS: 3 },
  });
  const { sid } = await rawPolling();
  colo = Buffer.from(sid.split(".")[0], "base64url").toString().split(":")[0];
});
afterAll(async () => {
  await service?.stop();
});

describe("per-session limits (one host)", () => {
  it("a real polling client bursting 1000 acked emits is not cut off", async () => {
    const client = await connect(service.url, { transports: ["polling"] });
    const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.timeout(10_000).emitWithAck("echo", i)));
    expect(replies).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(client.connected).toBe(true);
    client.close();
  }, 60_000);

  it("10,000 CONNECT packets in one POST → 413 (packets per POST), session closed, no sockets created", async () => {
    await withControls(async () => {
      const before = await hostStats();
      const session = await rawPolling();
      const response = await session.post(Array.from({ length: 10_000 }, () => "40").join("\x1e"));
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({ code: 3, message: "Too many packets in one payload" });
      expect(await closedSession(session)).toBe(true);
      const after = await hostStats();
      expect(after.sockets).toBeLessThanOrEqual(before.sockets + 2); // the two control clients at most
      expect(after.closedForLimits.packets_per_post).toBe((before.closedForLimits.packets_per_post ?? 0) + 1);
    });
  });

  it("a second CONNECT for a connected namespace closes the session (as Socket.IO)", async () => {
    await withControls(async () => {
      const session = await rawPolling();
      expect(await (await session.post("40\x1e40")).text()).toBe("ok");
      expect(await closedSession(session)).toBe(true);
    });
  });

  it("a namespace beyond MAX_NAMESPACES_PER_SESSION → connect_error; the first stays connected", async () => {
    await withControls(async () => {
      const main = io(service.url, { forceNew: true, reconnection: false });
      await new Promise<void>((resolve) => main.once("connect", () => resolve()));
      const admin = main.io.socket("/admin", { auth: { token: "let-me-in" } });
      admin.connect();
      const error = await new Promise<Error & { data?: unknown }>((resolve) => admin.once("connect_error", resolve));
      expect(error.message).toBe("Too many namespaces");
      expect(error.data).toEqual({ code: "namespace_limit", limit: 1 });
      expect(await main.timeout(2000).emitWithAck("echo", "fine")).toBe("fine");
      main.close();
    });
  });

  it("a packet flood beyond the token bucket → 429 'Packet rate limit exceeded', session closed", async () => {
    await withControls(async () => {
      const session = await rawPolling();
      await session.post("40");
      const flood = Array.from({ length: 1000 }, (_, i) => `42["echo",${i}]`).join("\x1e");
      expect((await session.post(flood)).status).toBe(200);
      const refused = await session.post(flood);
      expect(refused.status).toBe(429);
      expect(await refused.json()).toEqual({ code: 3, message: "Packet rate limit exceeded" });
      expect(await closedSession(session)).toBe(true);
    });
  });

  it("a polling session that never polls is dropped past MAX_QUEUED_BYTES (slow consumer)", async () => {
    await withControls(async () => {
      const before = await hostStats();
      const session = await rawPolling();
      await session.post("40");
      const big = JSON.stringify(["echo", "x".repeat(100_000)]);
      for (let i = 0; i < 6; i++) await session.post(Array.from({ length: 9 }, () => `42${big}`).join("\x1e"));
      const body = await session.get();
      expect(body.length).toBeLessThan(1000); // the backlog was dropped, not kept
      expect(body.split("\x1e")).toContain("1");
      const after = await hostStats();
      expect(after.closedForLimits.queued_bytes).toBe((before.closedForLimits.queued_bytes ?? 0) + 1);
    });
  });

  it("a room beyond MAX_ROOMS_PER_SOCKET is refused; the socket keeps its rooms and connection", async () => {
    await withControls(async () => {
      const client = await connect(service.url);
      for (const room of ["a", "b", "c", "d"]) await client.timeout(2000).emitWithAck("join", room);
      await expect(client.timeout(1000).emitWithAck("join", "e")).rejects.toThrow();
      expect(((await client.timeout(2000).emitWithAck("rooms")) as string[]).sort()).toEqual([client.id, "a", "b", "c", "d"].sort());
      expect(client.connected).toBe(true);
      client.close();
    });
  });

  it("acks awaited beyond MAX_PENDING_ACKS: that emit is refused, the socket carries on", async () => {
    await withControls(async () => {
      const client = await connect(service.url);
      client.on("question", () => undefined); // never answers
      const asks = [1, 2, 3, 4].map((n) => client.timeout(5000).emitWithAck("ask", `q${n}`));
      const fourth = (await asks[3]) as { error: string };
      expect(fourth.error).toContain("MAX_PENDING_ACKS");
      expect(await client.timeout(2000).emitWithAck("echo", "ok")).toBe("ok");
      client.close();
      await Promise.allSettled(asks);
    });
  });

  it("volatile packets are dropped for a polling session that is not polling; stats count them", async () => {
    await withControls(async () => {
      const before = await hostStats();
      const session = await rawPolling();
      await session.post("40");
      let received = "";
      while (!received.includes('42["welcome"')) received += await session.get();
      await session.post('421["volatile-burst",50]');
      let packets: string[] = [];
      while (!packets.includes("431[]")) packets = [...packets, ...(await session.get()).split("\x1e")];
      expect(packets.filter((packet) => packet.startsWith('42["tick"'))).toEqual(['42["tick",0]']);
      expect((await hostStats()).volatileDropped).toBe(before.volatileDropped + 49);
      await session.post("1");
    });
  });
});
