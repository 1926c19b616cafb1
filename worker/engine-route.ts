/**
 * The Engine.IO endpoint on the Worker. Stateless: it validates the request, then forwards
 * it to a ConnectionHost — a pool member for a handshake, the host named by the signed sid
 * for everything after. Any isolate anywhere can serve any request of any session.
 */
import { z } from "zod";
import { ADDRESS_HEADER, HOST_HEADER } from "../durable-objects/connection-host";
import { hostStub, type EdgeioBindings } from "../durable-objects/bindings";
import type { EdgeioConfig } from "./config";
import { engineErrorResponse, EngineError } from "./engine-errors";
import { hostName, verifySid } from "./ids";
import { isOriginAllowed } from "./cors";

const EngineQuery = z.object({
  EIO: z.string().optional(),
  transport: z.string().optional(),
  // No length limit here: verifySid rejects long sids, so they get "Session ID unknown" like any bad sid.
  sid: z.string().optional(),
});

export async function handleEngineRequest(request: Request, env: EdgeioBindings, config: EdgeioConfig): Promise<Response> {
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
  return hostStub(env, host).fetch(new Request(request, { headers }));
}

/** A random member of this colo's pool: sessions spread evenly, no coordination needed. */
function choosePoolHost(request: Request, config: EdgeioConfig): string {
  const colo = (request as Request & { cf?: { colo?: string } }).cf?.colo ?? "local";
  const index = crypto.getRandomValues(new Uint32Array(1))[0] % config.hostPoolSize;
  return hostName(colo, index);
}
