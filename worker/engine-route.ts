/**
 * The Engine.IO endpoint on the Worker. Stateless: it validates the request, then forwards
 * it to a ConnectionHost — a pool member for a handshake, the host named by the signed sid
 * for everything after. Any isolate anywhere can serve any request of any session.
 */
import { z } from "zod";
import { ADDRESS_HEADER, HOST_HEADER, POLL_CHANNEL_HEADER } from "../protocol/internal-headers";
import { hostStub, type EdgeioBindings } from "../durable-objects/bindings";
import type { EdgeioConfig } from "../durable-objects/config";
import { CLOSE_CLIENT_GONE, CLOSE_DELIVERED, POLL_DELIVERED } from "../durable-objects/engine/poll-channels";
import { engineErrorResponse, EngineError } from "../protocol/engine-errors";
import { hostName, verifySid } from "../protocol/ids";
import { isOriginAllowed } from "./cors";

const EngineQuery = z.object({
  EIO: z.string().optional(),
  transport: z.string().optional(),
  // No length limit here: verifySid rejects long sids, so they get "Session ID unknown" like any bad sid.
  sid: z.string().optional(),
});

/** What the engine route needs from the invocation: its loopback to this Worker's own fetch. */
export interface Loopback {
  fetch(request: Request): Promise<Response>;
}

export async function handleEngineRequest(
  request: Request,
  env: EdgeioBindings,
  config: EdgeioConfig,
  loopback?: Loopback,
): Promise<Response> {
  const origin = request.headers.get("origin");
  if (origin && !isOriginAllowed(config, origin)) return engineErrorResponse(EngineError.FORBIDDEN);

  const query = EngineQuery.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) return engineErrorResponse(EngineError.BAD_REQUEST);
  const { EIO, transport, sid } = query.data;
  if (EIO !== "4") return engineErrorResponse(EngineError.UNSUPPORTED_PROTOCOL_VERSION);
  if (!transport || !(config.transports as string[]).includes(transport)) return engineErrorResponse(EngineError.UNKNOWN_TRANSPORT);

  const isUpgrade = request.headers.get("Upgrade")?.toLowerCase() === "websocket";
  let host: string;
  if (sid) {
    const named = await verifySid(config.sidSecret, sid);
    if (!named) return engineErrorResponse(EngineError.UNKNOWN_SID);
    if (transport === "websocket" && !isUpgrade) return engineErrorResponse(EngineError.BAD_REQUEST);
    if (transport === "polling" && request.method !== "GET" && request.method !== "POST") return new Response(null, { status: 500 });
    host = named;
  } else {
    if (request.method !== "GET") return engineErrorResponse(EngineError.BAD_HANDSHAKE_METHOD);
    if (transport === "websocket" && !isUpgrade) return engineErrorResponse(EngineError.BAD_REQUEST);
    host = choosePoolHost(request, config);
  }

  const headers = new Headers(request.headers);
  headers.set(HOST_HEADER, host);
  headers.set(ADDRESS_HEADER, request.headers.get("cf-connecting-ip") ?? "127.0.0.1");
  if (sid && transport === "polling" && request.method === "GET" && !request.headers.has(POLL_CHANNEL_HEADER)) {
    return heldPoll(env, host, request, headers, loopback);
  }
  return detach(await hostStub(env, host).fetch(new Request(request, { headers })));
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
 */
async function heldPoll(
  env: EdgeioBindings,
  host: string,
  request: Request,
  headers: Headers,
  loopback: Loopback | undefined,
): Promise<Response> {
  headers.set("Upgrade", "websocket");
  headers.set(POLL_CHANNEL_HEADER, "1");
  const channelRequest = new Request(request.url, { method: "GET", headers });
  // The channel is opened by a second, short invocation of this Worker (its loopback), which
  // passes the WebSocket through and ends: this invocation then holds no reference to the
  // host while it waits, so the host can hibernate or be evicted in the meantime.
  const response = loopback ? await loopback.fetch(channelRequest) : await hostStub(env, host).fetch(channelRequest);
  const channel = response.webSocket;
  if (response.status !== 101 || !channel) return detach(response);
  channel.accept();
  const payload = await answerOf(channel, request.signal);
  return new Response(payload ?? NOOP, { headers: { "Content-Type": "text/plain; charset=UTF-8" } });
}

/**
 * Waits for the host's payload on a poll channel and confirms it (see PollChannels): the host
 * removes the frames only once told that a live client gets them. When the client has gone
 * (its request aborted; `enable_request_signal`), the channel closes unconfirmed and the
 * frames wait for the client's next GET. Resolves with the payload to answer, or null (noop).
 */
function answerOf(channel: WebSocket, signal: AbortSignal): Promise<string | null> {
  return new Promise((resolve) => {
    let payload: string | null = null;
    const finish = (answer: string | null) => {
      signal.removeEventListener("abort", onAbort);
      try {
        channel.close(1000, "done");
      } catch {
        // already closed by the host
      }
      resolve(answer);
    };
    const onAbort = () => {
      try {
        channel.close(CLOSE_CLIENT_GONE, "client gone");
      } catch {
        // already closed
      }
      resolve(null);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort);
    channel.addEventListener("message", (event) => {
      if (payload !== null || typeof event.data !== "string") return;
      if (signal.aborted) return onAbort();
      payload = event.data;
      try {
        channel.send(POLL_DELIVERED);
      } catch {
        // closed meanwhile (superseded): the close event decides
      }
    });
    // The host closes after the confirmation (1000), or without one: superseded by a newer
    // GET (4001) or reset — then the frames are still queued there, and a noop makes the
    // client simply poll again.
    channel.addEventListener("close", (event) => finish(event.code === CLOSE_DELIVERED ? payload : null));
    channel.addEventListener("error", () => finish(null));
  });
}

const NOOP = "6";

/** A random member of this colo's pool: sessions spread evenly, no coordination needed. */
function choosePoolHost(request: Request, config: EdgeioConfig): string {
  const colo = (request as Request & { cf?: { colo?: string } }).cf?.colo ?? "local";
  const index = crypto.getRandomValues(new Uint32Array(1))[0] % config.hostPoolSize;
  return hostName(colo, index);
}
