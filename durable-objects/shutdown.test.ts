import { describe, expect, it } from "vitest";
import type { WireFrame } from "../protocol/engine-codec";
import { createDecoder, type Packet } from "../protocol/socketio-codec";
import { type HostSockets, SHUTDOWN_EVENT, tellSockets } from "./shutdown";

/** The one Socket.IO packet of an Engine.IO message frame ("4" + the packet). */
function decodeTextPacket(frames: WireFrame[]): { nsp: string; data: unknown[] } {
  let packet: Packet | undefined;
  createDecoder((p) => (packet = p)).add((frames[0] as string).slice(1));
  return { nsp: packet!.nsp, data: packet!.data as unknown[] };
}

/** A host with sockets in "/" and "/chat" (two sessions, one with both namespaces). */
function host(): HostSockets {
  const sockets: Record<string, Array<{ sid: string }>> = { "/": [{ sid: "s1" }, { sid: "s2" }], "/chat": [{ sid: "s1" }] };
  return { namespaceCounts: () => Object.keys(sockets).map((nsp) => ({ nsp })), select: (nsp) => sockets[nsp] ?? [] };
}

function run(notice: Parameters<typeof tellSockets>[2], random?: () => number) {
  const sent: Array<{ sid: string; nsp: string; data: unknown[] }> = [];
  const reply = tellSockets(host(), (sid, frames) => sent.push({ sid, ...decodeTextPacket(frames) }), notice, random);
  return { reply, sent };
}

describe("tellSockets", () => {
  it("tells every socket of every namespace once, with the base delay when there is no jitter", () => {
    const { reply, sent } = run({ reconnectDelayMs: 1500, jitterMs: 0 });
    expect(reply).toEqual({ matched: 3 });
    expect(sent).toEqual([
      { sid: "s1", nsp: "/", data: [SHUTDOWN_EVENT, { reconnect_delay_ms: 1500 }] },
      { sid: "s2", nsp: "/", data: [SHUTDOWN_EVENT, { reconnect_delay_ms: 1500 }] },
      { sid: "s1", nsp: "/chat", data: [SHUTDOWN_EVENT, { reconnect_delay_ms: 1500 }] },
    ]);
  });

  it("spreads each socket's delay over base..base+jitter", () => {
    const draws = [0, 0.5, 0.999999];
    const { sent } = run({ reconnectDelayMs: 1000, jitterMs: 400 }, () => draws.shift()!);
    expect(sent.map((s) => (s.data[1] as { reconnect_delay_ms: number }).reconnect_delay_ms)).toEqual([1000, 1200, 1400]);
  });

  it("keeps to the namespaces asked for", () => {
    const { reply, sent } = run({ reconnectDelayMs: 0, jitterMs: 0, namespaces: ["/chat", "/none"] });
    expect(reply).toEqual({ matched: 1 });
    expect(sent.map((s) => [s.sid, s.nsp])).toEqual([["s1", "/chat"]]);
  });
});
