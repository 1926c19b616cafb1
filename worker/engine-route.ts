/**
 * The Engine.IO endpoint on the Worker. Stateless: it validates the request, then forwards
 * it to a ConnectionHost — a pool member for a handshake, the host named by the signed sid
 * for everything after. Any isolate anywhere can serve any request of any session.
 */
import { hostStub, type EdgeioBindings } from "../durable-objects/bindings";
import type { EdgeioConfig } from "../durable-objects/config";
import { framingOf, noopPayload } from "../durable-objects/engine/framing";
import { isBinaryPost, postResponse, readPost } from "../durable-objects/engine/polling";
import { CLOSE_CLIENT_GONE, CLOSE_DELIVERED, CLOSE_SESSION_GONE } from "../durable-objects/engine/poll-channels";
import { verifyEdgeRequest } from "../durable-objects/engine/verify";
import { engineErrorResponse } from "../protocol/engine-errors";
import { hostName, isEio3Host, verifySid } from "../protocol/ids";
import { ADDRESS_HEADER, HOST_HEADER, hasInternalHeaders, POLL_CHANNEL_HEADER, stripInternalHeaders } from "../protocol/internal-headers";
import { busySessions } from "./busy-sessions";
import { isOriginAllowed } from "./cors";

/**
 * Engine.IO requests this isolate has handled: a Worker request each (a polling round trip is
 * two: its POST and its GET). In memory only, for the work-count tests; no session state.
 */
export const engineRequests = { count: 0 };

/** `ctx`: the invocation's, for work that must outlive a client that goes away (a busy GET's frames). */
export async function handleEngineRequest(
  request: Request,
  env: EdgeioBindings,
  config: EdgeioConfig,
  ctx?: ExecutionContext,
): Promise<Response> {
  engineRequests.count += 1;
  const verdict = await verifyEdgeRequest(
    { method: request.method, url: new URL(request.url), origin: request.headers.get("origin"), isUpgrade: isWebSocketUpgrade(request) },
    config,
    (origin) => isOriginAllowed(config, origin),
    (sid) => hostOfSid(config.sidSecret, sid),
  );
  if (verdict.kind === "error") {
    return "code" in verdict.error ? engineErrorResponse(verdict.error) : new Response(null, { status: verdict.error.status });
  }
  const host = verdict.kind === "session" ? verdict.host : choosePoolHost(request, config, verdict.eio === 3);
  const sid = verdict.kind === "session" ? verdict.sid : null;
  if (sid && verdict.transport === "polling") {
    // Rule 9 let only GET and POST through.
    return request.method === "POST" ? post(env, host, sid, request, config) : heldPoll(env, host, sid, request, ctx);
  }

  // Internal headers are the edge's to set. Without any from the client (the usual case) its
  // request goes as it is, as the floor forwards it: the host knows its name (ctx.id.name) and
  // reads the client's address itself; the copy cost a WebSocket connect ~7% of its CPU (issue 11).
  const stub = hostStub(env, host);
  if (!hasInternalHeaders(request.headers)) {
    const response = await stub.fetch(request);
    // A WebSocket (101: the usual answer here) has no body to copy: returned as it is, no further promise.
    return response.status === 101 ? response : detach(response);
  }
  // A client's internal headers are dropped, and the edge's own set.
  const headers = stripInternalHeaders(request.headers);
  headers.set(HOST_HEADER, host);
  headers.set(ADDRESS_HEADER, request.headers.get("cf-connecting-ip") ?? "127.0.0.1");
  return detach(await stub.fetch(new Request(request, { headers })));
}

/**
 * Sids this isolate verified, with the host each names: a memo of `verifySid`, a pure function of
 * the sid and the secret (no session state: losing it changes nothing but one HMAC). Only valid
 * sids get in, so a flood of forged ones cannot fill it; bounded, oldest out first.
 */
const verifiedSids = new Map<string, string>();
const VERIFIED_SIDS_MAX = 10_000;

async function hostOfSid(secret: string, sid: string): Promise<string | null> {
  const key = `${secret}\u0000${sid}`;
  const known = verifiedSids.get(key);
  if (known !== undefined) return known;
  const host = await verifySid(secret, sid);
  if (host === null) return null;
  if (verifiedSids.size >= VERIFIED_SIDS_MAX) verifiedSids.delete(verifiedSids.keys().next().value as string);
  verifiedSids.set(key, host);
  return host;
}

function isWebSocketUpgrade(request: Request): boolean {
  return request.headers.get("Upgrade")?.toLowerCase() === "websocket";
}

/**
 * Copies a host's plain HTTP answer into a Response of this invocation. Clients often leave a
 * body unread (engine.io-client never reads a POST's "ok"); an unread stream from the host
 * would keep a reference to it and hold off its eviction.
 */
async function detach(response: Response): Promise<Response> {
  if (response.webSocket || response.status === 101) return response;
  return new Response(await response.arrayBuffer(), { status: response.status, headers: response.headers });
}

/**
 * A long-polling GET, held here rather than in the host: the host either answers at once
 * or hands back a WebSocket whose first message is the payload. While the client waits,
 * the host can hibernate or be evicted; whoever runs it next answers on the same channel.
 * The channel is opened by this invocation itself (one Worker request per GET): the host's
 * end is a hibernatable WebSocket, so waiting on it costs the host nothing.
 */
async function heldPoll(env: EdgeioBindings, host: string, sid: string, request: Request, ctx?: ExecutionContext): Promise<Response> {
  const stub = hostStub(env, host);
  if (!ctx || !busySessions.isBusy(sid)) return channelPoll(stub, host, sid, request);
  // A busy session's GET goes as an RPC: answered at once, or after a short wait in the host's
  // memory (no channel to open, send on and close). An eviction during that wait took nothing.
  // A client that goes away meanwhile may take this invocation with it: `waitUntil` keeps the
  // answer's handling alive, to give its frames back for the next GET.
  const handled = stub
    .pollGet(sid)
    .catch(() => NOOP_ANSWER)
    .then(async (answer) => {
      if (!("frames" in answer) || answer.frames.length === 0 || !request.signal.aborted) return answer;
      await stub.pollRequeue(sid, answer.frames);
      return NOOP_ANSWER;
    });
  ctx.waitUntil(handled);
  const answer = await handled;
  if ("error" in answer) return engineErrorResponse(answer.error);
  if ("frames" in answer) return pollResponse(host, answer.frames);
  if (request.signal.aborted) return pollResponse(host, []);
  return channelPoll(stub, host, sid, request);
}

/** A GET's answer: its frames, or a noop (the client polls again). */
function pollResponse(host: string, frames: string[]): Response {
  const body = frames.length > 0 ? framingOf(host).encodePayload(frames) : noopPayload(host);
  return new Response(body, { headers: { "Content-Type": "text/plain; charset=UTF-8" } });
}

const NOOP_ANSWER = { frames: [] as string[] };

/** A GET that waits on a hibernatable channel to the host (poll-channels.ts). */
async function channelPoll(stub: ReturnType<typeof hostStub>, host: string, sid: string, request: Request): Promise<Response> {
  // The host reads only these of a held GET (the session's own headers were kept at its
  // handshake); the channel header names the verified sid, so the host parses no URL. No
  // HOST_HEADER: a host that has the session knows its name already.
  const headers = { Upgrade: "websocket", [POLL_CHANNEL_HEADER]: sid };
  // The host reads no URL of a channel: a constant one costs the runtime less to parse than the client's.
  const response = await stub.fetch(CHANNEL_URL, { headers });
  const channel = response.webSocket;
  if (response.status !== 101 || !channel) return detach(response);
  channel.accept();
  const payload = await answerOf(channel, request.signal);
  // The noop is framed for the host's Engine.IO version ("6" in v4, "1:6" in v3).
  return new Response(payload ?? noopPayload(host), { headers: { "Content-Type": "text/plain; charset=UTF-8" } });
}

/**
 * Waits for the host's payload on a poll channel and confirms it (see PollChannels) by closing
 * the channel with CLOSE_DELIVERED: the host removes the frames when it sees that close, and its
 * answering close ends the wait, so the client gets the payload only once the host knows. When
 * the client has gone (its request aborted; `enable_request_signal`), the channel closes with
 * CLOSE_CLIENT_GONE and the frames wait for the client's next GET. Resolves with the payload to
 * answer, or null (noop).
 */
function answerOf(channel: WebSocket, signal: AbortSignal): Promise<string | null> {
  return new Promise((resolve) => new PollAnswer(channel, signal, resolve));
}

/**
 * One held GET's wait on its channel (see `answerOf`). A class rather than closures: a deploy
 * bundle keeps function names (esbuild `keepNames`), which costs a `__name` call per named
 * closure per request; methods are named once.
 */
class PollAnswer {
  private payload: string | null = null;
  private done = false;

  constructor(
    private readonly channel: WebSocket,
    private readonly signal: AbortSignal,
    private readonly resolve: (answer: string | null) => void,
  ) {
    if (signal.aborted) {
      this.onAbort();
      return;
    }
    signal.addEventListener("abort", this);
    channel.addEventListener("message", this);
    channel.addEventListener("close", this);
    channel.addEventListener("error", this);
  }

  /** The one listener of every event it waits for (an EventListener object: no closure per event type). */
  handleEvent(event: Event): void {
    switch (event.type) {
      case "abort":
        this.onAbort();
        return;
      case "message": {
        const data = (event as MessageEvent).data;
        if (this.payload !== null || typeof data !== "string" || this.done) return;
        this.payload = data;
        this.close(CLOSE_DELIVERED, "delivered");
        return;
      }
      case "close": {
        // The payload is the answer once the host echoed the confirmation, or closed the session
        // right after sending it (its last frames, ending with "1"). Any other close (superseded
        // by a newer GET, reset) leaves the frames queued there: a noop makes the client poll again.
        const code = (event as CloseEvent).code;
        this.finish(code === CLOSE_DELIVERED || code === CLOSE_SESSION_GONE ? this.payload : null);
        return;
      }
      case "error":
        // The runtime may report a lost connection while the host's answering close is on its way
        // (seen locally), and then deliver that close: with a payload at stake the close decides,
        // and without one (or without a close soon after) the frames are the host's to requeue.
        if (this.payload === null) this.finish(null);
        else setTimeout(() => this.finish(null), CLOSE_AFTER_ERROR_MS);
        return;
    }
  }

  private onAbort(): void {
    this.close(CLOSE_CLIENT_GONE, "client gone");
    this.finish(null);
  }

  private finish(answer: string | null): void {
    if (this.done) return;
    this.done = true;
    this.signal.removeEventListener("abort", this);
    this.resolve(answer);
  }

  private close(code: number, reason: string): void {
    try {
      this.channel.close(code, reason);
    } catch {
      // already closed by the host
    }
  }
}

/**
 * A long-polling POST as an RPC carrying its body: read here, bounded as the host would
 * (engine/polling.ts `readPost`: MAX_PAYLOAD, 413), so the host builds no Request, stream or
 * Response; it answers with plain data, turned into engine.io's answer here.
 */
async function post(env: EdgeioBindings, host: string, sid: string, request: Request, config: EdgeioConfig): Promise<Response> {
  const binary = isBinaryPost(isEio3Host(host) ? 3 : 4, request.headers.get("Content-Type"));
  const body = await readPost(request, binary, config.maxPayload);
  busySessions.posted(sid, body);
  return postResponse(await hostStub(env, host).pollPost(sid, body));
}

/** The URL of a held GET's channel request (the host reads its headers only). */
const CHANNEL_URL = "https://edgeio.internal/poll-channel";

/** How long a poll channel's close may follow its error event (the Worker's own timer, not a DO's). */
const CLOSE_AFTER_ERROR_MS = 1000;

/**
 * This isolate's colo and its pools' names. `request.cf` is a getter that builds the whole cf
 * object (~6% of a Worker's handshake in the profile), and an isolate runs in one data center,
 * so the colo is read again only every COLO_READ_EVERY handshakes. Not session state: a stale
 * colo only places a new session in a neighbour's pool, which works the same.
 */
let pools: { colo: string; size: number; v4: string[]; v3: string[] } | null = null;
let handshakesSinceColoRead = 0;
const COLO_READ_EVERY = 64;

/**
 * A random member of this colo's pool: sessions spread evenly, no coordination needed. Engine.IO
 * v3 sessions get the colo's v3 pool (hostName), whose hosts auto-answer v3 pings.
 */
function choosePoolHost(request: Request, config: EdgeioConfig, eio3: boolean): string {
  const size = config.hostPoolSize;
  if (!pools || pools.size !== size || ++handshakesSinceColoRead >= COLO_READ_EVERY) {
    handshakesSinceColoRead = 0;
    const colo = (request as Request & { cf?: { colo?: string } }).cf?.colo ?? "local";
    if (pools?.colo !== colo || pools.size !== size) {
      const names = (v3: boolean) => Array.from({ length: size }, (_, index) => hostName(colo, index, v3));
      pools = { colo, size, v4: names(false), v3: names(true) };
    }
  }
  // Spreading sessions needs no secret randomness: Math.random, not a CSPRNG call per handshake.
  const index = Math.floor(Math.random() * size);
  return (eio3 ? pools.v3 : pools.v4)[index];
}
