/**
 * Control clients for the attack suite: real socket.io-client sessions (one WebSocket, one
 * polling) that echo with acks in a loop on the service while an attack runs. Afterwards each
 * must have had every echo answered (0 failures, within a loose safety bound), no disconnect,
 * and the server's `count` of their echoes must equal what they sent (nothing of theirs lost).
 */
import type { Socket } from "socket.io-client";
import { expect } from "vitest";
import { connect } from "./clients";

export interface ControlResult {
  transport: string;
  sent: number;
  failures: number;
  maxLatency: number;
  /** The first few failures: when, and what happened. */
  failureDetails: string[];
  disconnects: number;
  /** The server's count of this control's echo events (the echo app's `count`). */
  counted: number;
}

export interface ControlOptions {
  /** Each echo must be answered within this (a safety bound, not a benchmark). */
  latencyBoundMs?: number;
  /** A pause between echoes (keeps the controls well under a lowered PACKET_RATE_PER_SECOND). */
  pauseMs?: number;
}

/** A socket.io-client that echoes with acks in a loop until stopped; counts failures. */
function controlLoop(socket: Socket, latencyBoundMs: number, pauseMs: number) {
  let running = true;
  let disconnects = 0;
  socket.on("disconnect", () => disconnects++);
  const result = { sent: 0, failures: 0, maxLatency: 0, failureDetails: [] as string[] };
  const fail = (what: string) => {
    result.failures++;
    if (result.failureDetails.length < 5) result.failureDetails.push(`${new Date().toISOString()} echo ${result.sent}: ${what}`);
  };
  const done = (async () => {
    while (running) {
      const started = Date.now();
      result.sent++;
      try {
        const marker = `${result.sent}`;
        const reply = await socket.timeout(latencyBoundMs).emitWithAck("echo", marker);
        if (reply !== marker) fail(`answered ${JSON.stringify(reply)}`);
      } catch (error) {
        fail((error as Error).message);
      }
      result.maxLatency = Math.max(result.maxLatency, Date.now() - started);
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  return {
    async stop(): Promise<ControlResult> {
      running = false;
      await done;
      const counted = (await socket.timeout(latencyBoundMs).emitWithAck("count")) as number;
      return { transport: socket.io.engine.transport.name, ...result, disconnects, counted };
    },
  };
}

/**
 * Runs `attack` while a WebSocket and a polling control client echo on the service (use
 * HOST_POOL_SIZE=1 so they share the attacked host), then asserts they were unaffected.
 */
export async function withControls(url: string, attack: () => Promise<void>, options: ControlOptions = {}): Promise<ControlResult[]> {
  const latencyBoundMs = options.latencyBoundMs ?? 2000;
  const controls = await Promise.all([connect(url, { transports: ["websocket"] }), connect(url, { transports: ["polling"] })]);
  const loops = controls.map((socket) => controlLoop(socket, latencyBoundMs, options.pauseMs ?? 0));
  let results: ControlResult[] = [];
  try {
    await attack();
  } finally {
    results = await Promise.all(loops.map((loop) => loop.stop()));
    for (const socket of controls) socket.close();
  }
  for (const result of results) {
    expect(result.sent, `${result.transport} control`).toBeGreaterThan(0);
    expect(result.failures, `${result.transport} control failures: ${result.failureDetails.join("; ")}`).toBe(0);
    expect(result.disconnects, `${result.transport} control disconnects`).toBe(0);
    expect(result.counted, `${result.transport} control: server's count of its echoes`).toBe(result.sent);
    expect(result.maxLatency, `${result.transport} control latency`).toBeLessThan(latencyBoundMs);
  }
  return results;
}
