/**
 * Oversize and deeply nested input on the HTTP surfaces, against the real service (wrangler dev,
 * echo app, one host so every session shares it):
 * - a 128 MiB chunked body (no Content-Length) to the Engine.IO polling POST of a live session
 *   and to /v1/emit is refused with 413 while it streams, and workerd's RSS grows by far less than
 *   the body (the old code buffered the whole POST, and dropped the /v1 connection);
 * - 20k levels of nesting: /v1/emit answers 400 `too_deep` (was 500), a Socket.IO packet over
 *   polling or WebSocket closes only its session;
 * - a control socket.io-client on the same host keeps getting its acked echoes answered throughout.
 */
import { readFileSync } from "node:fs";
import { request } from "node:http";
import type { Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, hostOf } from "../../helpers/clients";
import { commandLine, descendants } from "../../helpers/proc";
import { startService, type RunningService } from "../../helpers/service";

const KEY = "security-key-aaaaaaaaaaaa";
/**
 * MAX_PAYLOAD and API_MAX_BODY for this service. What the test can assert robustly under
 * `wrangler dev` is that a body is never buffered whole: the RSS counted here includes wrangler's
 * dev proxy (a second workerd in front of the Worker), which holds what the client sent before it
 * saw the 413, and the Worker → Durable Object pipe buffers on top of what the host reads
 * (measured: /v1 +13…81 MiB and the Engine.IO POST +29…106 MiB for 128 MiB attacks at 8–32 MB
 * limits). A limit well below the host's memory keeps the host from being reset mid-attack.
 */
const LIMIT = 8_000_000;

const ATTACK_BYTES = 128 * 1024 * 1024;
/** The old code buffered the whole 128 MiB body; half of it is the line a fix must stay under. */
const NOT_BUFFERED_WHOLE = ATTACK_BYTES / 2;
const DEEP = 20_000;

let service: RunningService;
let control: Socket;
let echo: EchoLoop;
const controlDisconnects: string[] = [];

beforeAll(async () => {
  service = await startService({ vars: { API_KEYS: KEY, API_MAX_BODY: LIMIT, MAX_PAYLOAD: LIMIT, HOST_POOL_SIZE: 1 } });
  // The control client goes straight to the runtime: what is tested is that the host keeps
  // serving its other sessions, not that wrangler's dev proxy (which the attacks cross) does.
  control = await connect(await service.runtimeUrl(), { transports: ["websocket"] });
  control.on("disconnect", (reason) => controlDisconnects.push(reason));
});
afterAll(async () => {
  control?.close();
  await service?.stop();
});
afterEach(async () => {
  await echo?.stop();
});

// ─────────────────────────── the workerd process and its memory ───────────────────────────

/** wrangler dev runs two workerd processes (the Worker, and its dev proxy); both count. */
function workerdPids(): number[] {
  const pids = descendants(process.pid).filter((pid) => /\/workerd\s/.test(`${commandLine(pid)} `));
  if (pids.length === 0) throw new Error(`no workerd process below ${process.pid}`);
  return pids;
}

/** The summed resident memory of `pids`, from /proc/<pid>/status VmRSS. */
function rssBytes(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    if (!match) throw new Error(`no VmRSS for ${pid}`);
    total += Number(match[1]) * 1024;
  }
  return total;
}

// ─────────────────────────── attack and control traffic ───────────────────────────

interface ChunkedResult {
  status: number | null;
  body: string;
  /** The answer's body arrived to its end (not cut by a reset after its headers). */
  complete: boolean;
  sent: number;
  error: string | null;
}

/**
 * POSTs up to `total` bytes with chunked encoding (no Content-Length), 64 KiB at a time and
 * respecting backpressure, and stops as soon as the server answers (or drops the connection).
 */
function chunkedPost(url: string, total: number, headers: Record<string, string> = {}, stallAfter = Infinity): Promise<ChunkedResult> {
  return new Promise((resolve) => {
    const chunk = Buffer.alloc(64 * 1024, "x".charCodeAt(0));
    const result: ChunkedResult = { status: null, body: "", complete: false, sent: 0, error: null };
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      req.destroy();
      resolve(result);
    };
    const req = request(url, { method: "POST", headers: { "Content-Type": "text/plain;charset=UTF-8", ...headers } });
    req.on("response", (response) => {
      result.status = response.statusCode ?? null;
      response.setEncoding("utf8");
      response.on("data", (data: string) => (result.body += data));
      response.on("end", () => {
        result.complete = true;
        finish();
      });
      response.on("error", finish);
    });
    req.on("error", (error) => {
      result.error = error.message;
      if (result.status === null) finish();
    });
    const pump = () => {
      while (!finished && result.status === null && result.sent < Math.min(total, stallAfter)) {
        result.sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (!finished && result.status === null && result.sent >= total) req.end();
      // Stalled: wait for an answer given on the headers alone; none within 5 s ends the attempt.
      else if (result.sent >= stallAfter) setTimeout(finish, 5000);
    };
    pump();
  });
}

/**
 * wrangler dev only: the runtime closes a connection whose request body is still arriving once
 * the Worker has answered, and miniflare's entry worker in front of it then sometimes loses the
 * answer (the client sees a reset, a 500 "Network connection lost" from miniflare itself, or our
 * 413's headers with its body cut off).
 * So an attack is repeated (up to 4 times) until our answer gets through; every attempt must
 * end in one of those ways and none may grow workerd's RSS by half the attack or more.
 */
interface AttackOptions {
  headers?: Record<string, string>;
  total?: number;
  maxGrowth?: number;
  stallAfter?: number;
}

async function oversizeAttack(target: string | (() => Promise<string>), options: AttackOptions = {}) {
  const { headers = {}, total = ATTACK_BYTES, maxGrowth = NOT_BUFFERED_WHOLE, stallAfter } = options;
  const pids = workerdPids();
  const attempts: Array<ChunkedResult & { grown: number }> = [];
  for (let i = 0; i < 4; i++) {
    const url = typeof target === "string" ? target : await target();
    const before = rssBytes(pids);
    const result = await chunkedPost(url, total, headers, stallAfter);
    attempts.push({ ...result, grown: rssBytes(pids) - before });
    if (result.status === 413 && result.complete) break;
  }
  const summary = attempts
    .map(
      (a) =>
        `${a.status ?? a.error}${a.complete ? "" : " (body cut)"} after ${(a.sent / 2 ** 20).toFixed(1)} MiB sent, RSS +${(a.grown / 2 ** 20).toFixed(1)} MiB`,
    )
    .join("; ");
  for (const attempt of attempts) {
    const devProxyLoss = attempt.status === null || (attempt.status === 500 && attempt.body.includes("Network connection lost"));
    expect(attempt.status === 413 || devProxyLoss, summary).toBe(true);
    expect(attempt.grown, summary).toBeLessThan(maxGrowth);
  }
  const answered = attempts[attempts.length - 1];
  expect(answered.status, summary).toBe(413);
  expect(answered.complete, summary).toBe(true);
  return answered;
}

const ECHO_PACE_MS = 20;

/** Acked echoes on the control socket, one after another, until stopped; counts failures. */
interface EchoLoop {
  stop(): Promise<{ ok: number; failed: number; errors: string[] }>;
}

function echoLoop(socket: Socket): EchoLoop {
  let running = true;
  let ok = 0;
  let failed = 0;
  const errors: string[] = [];
  const loop = (async () => {
    for (let i = 0; running; i++) {
      try {
        // A loose bound on latency (5 s on a loaded 2-core machine): the attack must not stall
        // the host's other sessions.
        const answer: unknown = await socket.timeout(5000).emitWithAck("echo", i);
        if (answer === i) ok++;
        else throw new Error(`echo ${i} answered ${answer}`);
        // Paced under PACKET_RATE_PER_SECOND (100): unpaced, a fast host lets this loop exceed
        // the session's packet budget and the limiter (rightly) closes the control session.
        await new Promise((r) => setTimeout(r, ECHO_PACE_MS));
      } catch (error) {
        failed++;
        errors.push((error as Error).message);
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { ok, failed, errors };
    },
  };
}

async function expectControlFine(loop: EchoLoop) {
  const result = await loop.stop();
  expect(result.failed, `${result.errors.join("; ")}; control disconnects: ${controlDisconnects.join(", ")}`).toBe(0);
  expect(result.ok).toBeGreaterThan(0);
  expect(control.connected).toBe(true);
  expect(controlDisconnects).toEqual([]);
}

/** A raw Engine.IO polling session with its Socket.IO namespace connected. */
async function pollingSession(): Promise<string> {
  const open = await (await fetch(`${service.url}/socket.io/?EIO=4&transport=polling`)).text();
  const { sid } = JSON.parse(open.slice(1)) as { sid: string };
  expect(await post(sid, "40")).toMatchObject({ status: 200, text: "ok" });
  const connected = await (await fetch(pollUrl(sid))).text();
  expect(connected).toMatch(/^40\{"sid":/);
  return sid;
}

const pollUrl = (sid: string) => `${service.url}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;

async function post(sid: string, body: string) {
  const response = await fetch(pollUrl(sid), { method: "POST", body, headers: { "Content-Type": "text/plain;charset=UTF-8" } });
  return { status: response.status, text: await response.text() };
}

/** A gone session answers Socket.IO's 400 `Session ID unknown` to its next GET. */
async function expectSessionGone(sid: string) {
  let response = await fetch(pollUrl(sid), { signal: AbortSignal.timeout(5000) });
  // A polling session closed by the server first hands its client the close packet.
  if (response.status === 200) {
    expect(await response.text()).toBe("1");
    response = await fetch(pollUrl(sid), { signal: AbortSignal.timeout(5000) });
  }
  expect(response.status).toBe(400);
  expect(await response.json()).toEqual({ code: 1, message: "Session ID unknown" });
}

const deepArray = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

// ─────────────────────────────────────── the cases ───────────────────────────────────────

describe("128 MiB chunked bodies (no Content-Length)", () => {
  it("the Engine.IO polling POST of a live session gets 413 without buffering it; only that session closes", async () => {
    const warm = await pollingSession();
    await post(warm, `42["echo","warm-up"]`); // warm the code path before measuring
    echo = echoLoop(control);
    const sids: string[] = [];
    const freshSession = async () => {
      const sid = await pollingSession();
      expect(Buffer.from(sid.split(".")[0], "base64url").toString()).toBe(hostOf(control)); // the control's host
      sids.push(sid);
      return pollUrl(sid);
    };
    // KNOWN GAP: the host reads at most MAX_PAYLOAD bytes, but the runtime buffers more in the
    // Worker → Durable Object pipe before the host cancels the stream (measured 1.6–3.3 × the
    // limit). So this asserts what the fix guarantees — the body is never buffered whole (the
    // old code grew by more than the 128 MiB attack) — not the 2 × bound /v1 meets. Counting
    // the body in the Worker with a TransformStream made it worse (every chunk through JS).
    const answered = await oversizeAttack(freshSession);
    expect(answered.sent).toBeLessThan(ATTACK_BYTES); // refused while it streamed, not after the end
    for (const sid of sids) await expectSessionGone(sid);
    expect((await post(warm, `42["echo","still here"]`)).text).toBe("ok"); // another session on the host
    await expectControlFine(echo);
  });

  it("/v1/emit gets 413 in the API's error envelope without buffering it", async () => {
    echo = echoLoop(control);
    const answered = await oversizeAttack(`${service.url}/v1/emit`, {
      headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json" },
    });
    expect(JSON.parse(answered.body)).toEqual({ error: { code: "payload_too_large", message: `the request body exceeds ${LIMIT} bytes` } });
    expect(answered.sent).toBeLessThan(ATTACK_BYTES);
    await expectControlFine(echo);
  });

  it("a declared Content-Length over the limit is refused before reading (413)", async () => {
    const headers = { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json", "Content-Length": String(LIMIT + 1) };
    // Only 64 KiB of the declared body is sent; the answer must come without the rest.
    const answered = await oversizeAttack(`${service.url}/v1/emit`, { headers, total: LIMIT + 1, stallAfter: 64 * 1024 });
    expect(answered.sent).toBe(64 * 1024);
    expect(JSON.parse(answered.body)).toMatchObject({ error: { code: "payload_too_large" } });
  });
});

describe("20k levels of nesting", () => {
  it("/v1/emit answers 400 too_deep, not 500", async () => {
    echo = echoLoop(control);
    const response = await fetch(`${service.url}/v1/emit`, {
      method: "POST",
      headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json" },
      body: `{"event":"deep","args":[${deepArray(DEEP)}]}`,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { code: "too_deep", message: "the request body nests deeper than 32 levels" } });
    await expectControlFine(echo);
  });

  it("/v1/emit still accepts nesting within the limit", async () => {
    const response = await fetch(`${service.url}/v1/emit`, {
      method: "POST",
      headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json" },
      body: `{"event":"nested","args":[${deepArray(30)}]}`, // body object + args array + 30 = 32
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true });
  });

  it("a 20k-deep Socket.IO packet over polling closes only that session", async () => {
    const sid = await pollingSession();
    echo = echoLoop(control);
    const response = await post(sid, `42["echo",${deepArray(DEEP)}]`);
    // Accepted at the Engine.IO level, then the Socket.IO decoder refuses it: parse error.
    expect(response.status).toBe(200);
    // The held GET gets the close packet at once (a live session would hold it until the next ping).
    const closed = await (await fetch(pollUrl(sid), { signal: AbortSignal.timeout(5000) })).text();
    expect(closed).toBe("1");
    await expectSessionGone(sid);
    await expectControlFine(echo);
  });

  it("a 20k-deep Socket.IO packet over WebSocket closes only that session", async () => {
    echo = echoLoop(control);
    const ws = new WebSocket(`${service.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
    const messages: string[] = [];
    const closed = new Promise<number>((resolve) => ws.addEventListener("close", (event) => resolve(event.code)));
    ws.addEventListener("message", (event) => {
      const text = String(event.data);
      messages.push(text);
      if (text === "2") ws.send("3");
      if (text.startsWith("40")) ws.send(`42["echo",${deepArray(DEEP)}]`);
    });
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new Error("WebSocket error")));
    });
    ws.send("40");
    const by = await Promise.race([
      closed.then(() => "server"),
      new Promise<string>((r) => setTimeout(() => r("nobody within 5 s"), 5000)),
    ]);
    ws.close();
    expect(by).toBe("server");
    expect(messages[0]).toMatch(/^0\{"sid":/);
    expect(messages.some((m) => m.startsWith("40{"))).toBe(true);
    expect(messages.some((m) => m.startsWith("43"))).toBe(false); // no echo answered
    const { sid } = JSON.parse(messages[0].slice(1)) as { sid: string };
    await expectSessionGone(sid);
    await expectControlFine(echo);
  });
});
