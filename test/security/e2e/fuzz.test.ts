/**
 * Fuzzing Engine.IO / Socket.IO packets over both transports against the real service
 * (`wrangler dev`, HOST_POOL_SIZE=1: every fuzzed session shares the host with the controls).
 *
 * Each case opens a fresh raw session (polling, WebSocket, or polling upgraded to WebSocket),
 * sends its generated inputs (fuzz-cases.ts), then proves the session either still works (an
 * acked echo is answered, after reconnecting "/" if the case disconnected it) or was closed or
 * refused with a documented outcome: 400 {"code":3|1,…}, 413, 429, a "1" close packet,
 * WebSocket close 1000/1002/1008/1009, connect_error. Never a 500, never a hang. Meanwhile a
 * polling and a WebSocket socket.io-client echo on the same host with 0 failures, no
 * disconnect, and the server's count of their echoes matches (test/helpers/controls.ts).
 *
 * The seed is random per run and printed in the test name; replay with FUZZ_SEED=<seed>
 * (FUZZ_ONLY=<id,…> for single cases; FUZZ_DEBUG=<file> logs every case and the service output).
 */
import { appendFileSync } from "node:fs";
import { stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withControls } from "../../helpers/controls";
import { RawEngineSession } from "../../helpers/raw-engine";
import { type RunningService, startService } from "../../helpers/service";
import { type FuzzCase, type FuzzMessage, generateCases } from "./fuzz-cases";

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ONLY = process.env.FUZZ_ONLY?.split(",").map(Number);
const CASES = generateCases(SEED, { polling: 150, websocket: 110, upgrade: 40 }).filter((c) => !ONLY || ONLY.includes(c.id));
const DEBUG_LOG = process.env.FUZZ_DEBUG;
const CONCURRENCY = 6;
/**
 * Limits lowered so the cases that hit them stay cheap (the outcome is the same at any size):
 * MAX_PAYLOAD for oversize inputs, PACKET_RATE_BURST for floods (what one default burst costs
 * the other sessions is limits.test.ts's subject). The controls pause 10 ms between echoes, so
 * they stay under the 100 packets/s refill.
 */
const LIMITS = { MAX_PAYLOAD: 65_536, PACKET_RATE_BURST: 300 };
/** Each liveness step (an echo answered, or the session seen closed) is bounded by this. */
const STEP_MS = 3000;

let service: RunningService;

beforeAll(async () => {
  service = await startService({ vars: { HOST_POOL_SIZE: 1, ...LIMITS } });
});
afterAll(async () => {
  if (DEBUG_LOG && service) appendFileSync(`${DEBUG_LOG}.service`, service.output());
  await service?.stop();
});

type Verdict = { outcome: "working" | "closed"; problems: string[] };

/** Runs one case; the verdict lists every undocumented outcome it met. */
async function runCase(fuzz: FuzzCase): Promise<Verdict> {
  const session = new RawEngineSession(service.url);
  session.maxPayload = LIMITS.MAX_PAYLOAD;
  try {
    let refused = false;
    if (fuzz.transport === "websocket") {
      await session.openWebSocket(false);
      if (fuzz.connectFirst) session.sendFrame("40");
      for (const message of fuzz.messages) session.sendFrame(message);
    } else {
      await session.openPolling();
      if (fuzz.connectFirst) await session.post("40");
      if (fuzz.transport === "upgrade") {
        await session.openWebSocket(true);
        for (const message of fuzz.messages) session.sendFrame(message);
      } else {
        for (const message of fuzz.messages) {
          const outcome = await session.post(message);
          if (outcome === "refused" || outcome === "gone") refused = true;
          if (outcome !== "ok") break;
        }
      }
    }
    // A refused POST closes its session: the long-poll must see the "1" (or the sid gone).
    if (refused) await session.until(() => !session.pollingOpen, "close after a refused POST");
    const outcome = refused ? "closed" : await liveness(session, fuzz.id);
    return { outcome, problems: session.problems };
  } finally {
    await session.stop();
  }
}

/** An echo answered on the session (reconnecting "/" once if needed), or every channel of it closed. */
async function liveness(session: RawEngineSession, id: number): Promise<"working" | "closed"> {
  const alive = () => session.wsOpen || session.pollingOpen;
  const echo = async (ackId: number) => {
    const marker = `43${ackId}["alive-${id}"]`;
    await send(session, `42${ackId}["echo","alive-${id}"]`);
    await session.until(() => session.inbox.includes(marker) || !alive(), "", STEP_MS);
    return session.inbox.includes(marker);
  };
  // Let the case's last packets take effect (a close in flight) before probing.
  await new Promise((r) => setTimeout(r, 100));
  if (!alive()) return "closed";
  if (await echo(9001)) return "working";
  if (!alive()) return "closed";
  // The case may have left "/" unconnected (or disconnected it): connect, then echo again.
  const seen = session.inbox.length;
  await send(session, "40");
  const answered = () => session.inbox.slice(seen).some((packet) => packet.startsWith("40{") || packet.startsWith("44"));
  await session.until(() => answered() || !alive(), "", STEP_MS);
  if (await echo(9002)) return "working";
  if (!alive()) return "closed";
  session.problems.push("hang: the session neither answered an echo nor closed");
  return "working";
}

/** Sends on whichever transport is open (both while an upgrade probe is pending). */
async function send(session: RawEngineSession, packet: string): Promise<void> {
  if (session.wsOpen) session.sendFrame(packet);
  if (session.pollingOpen) await session.post(packet);
}

/** A case, short enough for a failure report. */
function describeCase(fuzz: FuzzCase): string {
  const shorten = (message: FuzzMessage) => {
    if (typeof message !== "string") return `<${message.length} bytes>`;
    return message.length > 80 ? `${message.slice(0, 80)}…(${message.length} chars)` : message;
  };
  return `#${fuzz.id} ${fuzz.transport} [${fuzz.label}] ${JSON.stringify(fuzz.messages.map(shorten)).slice(0, 400)}`;
}

async function runAll(cases: FuzzCase[]): Promise<Array<{ fuzz: FuzzCase; verdict: Verdict }>> {
  const results: Array<{ fuzz: FuzzCase; verdict: Verdict }> = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const fuzz = cases[next++];
      let verdict: Verdict;
      const started = Date.now();
      try {
        verdict = await runCase(fuzz);
      } catch (error) {
        verdict = { outcome: "closed", problems: [`case threw: ${(error as Error).message}`] };
      }
      results.push({ fuzz, verdict });
      if (DEBUG_LOG)
        appendFileSync(
          DEBUG_LOG,
          `${new Date(started).toISOString()} ${Date.now() - started} ms ${verdict.outcome} ${describeCase(fuzz)}\n`,
        );
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return results;
}

describe("fuzzing Engine.IO / Socket.IO over polling and WebSocket (one host, with controls)", () => {
  it(`seed ${SEED}: ${CASES.length} cases end working or with a documented outcome; the controls are unaffected`, async () => {
    const logStart = service.output().length;
    const controls = await withControls(
      service.url,
      async () => {
        const results = await runAll(CASES);
        // Soft: a failing case and failing controls are both reported.
        const failures = results.filter(({ verdict }) => verdict.problems.length > 0);
        expect
          .soft(
            failures.map(({ fuzz, verdict }) => `${describeCase(fuzz)}: ${verdict.problems.join("; ")}`),
            `seed ${SEED}`,
          )
          .toEqual([]);
        expect(results).toHaveLength(CASES.length);
        if (!ONLY) {
          // The fuzz must reach both ends: sessions that kept working and sessions that were closed.
          const working = results.filter(({ verdict }) => verdict.outcome === "working").length;
          expect.soft(working).toBeGreaterThan(CASES.length / 10);
          expect.soft(CASES.length - working).toBeGreaterThan(CASES.length / 10);
        }
        // No request answered 500 (wrangler logs each with its status), and nothing thrown in the
        // service: malformed input is a logged warning, never an error (e.g. a send on a closed socket).
        const log = stripVTControlCharacters(service.output().slice(logStart)).split("\n");
        // (Except wrangler dev's own proxy losing an oversize POST's 413, which post() allows.)
        const devProxyLoss = (line: string) => line.includes("Error inside ProxyWorker") && line.includes("Network connection lost");
        expect.soft(log.filter((line) => / 500 |\[ERROR\]|Uncaught/.test(line) && !devProxyLoss(line))).toEqual([]);
      },
      { pauseMs: 10 },
    );
    if (DEBUG_LOG) appendFileSync(DEBUG_LOG, `controls: ${JSON.stringify(controls)}\n`);
  }, 180_000);
});
