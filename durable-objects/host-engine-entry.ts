/**
 * The ConnectionHost's Engine.IO entry points, apart from the class (which keeps the runtime's
 * hooks): an Engine.IO request the Worker verified (engine/verify.ts rules 1–9) and forwarded
 * — a handshake, a WebSocket upgrade, a held GET's channel. The long-polling POST comes as an
 * RPC instead (`ConnectionHost.pollPost` → engine/polling.ts `post`).
 */
import { HOST_HEADER, POLL_CHANNEL_HEADER } from "../protocol/internal-headers";
import type { EdgeioConfig, TransportName } from "./config";
import type { EngineSessions } from "./engine/sessions";
import type { HostAlarm } from "./host-alarm";

export async function engineFetch(engine: EngineSessions, config: EdgeioConfig, alarm: HostAlarm, request: Request): Promise<Response> {
  // A held GET's channel names its (verified) sid in the header: no URL parse per poll.
  const channelOf = request.headers.get(POLL_CHANNEL_HEADER);
  if (channelOf) return engine.route(request, channelOf, "polling", true, true);
  const url = new URL(request.url);
  const sid = url.searchParams.get("sid");
  const transport = url.searchParams.get("transport") as TransportName | null;
  const isUpgrade = request.headers.get("Upgrade")?.toLowerCase() === "websocket";
  if (!sid) {
    const due = Date.now() + Math.min(config.pingInterval, config.connectTimeout); // the new session's first ping or deadline, at the earliest
    const response = await engine.handshake(request, url, transport ?? "polling", isUpgrade);
    // On a busy host the alarm is set already: no promise to wait on (issue 11).
    return alarm.covers(due) ? response : alarm.cover(due).then(() => response);
  }
  return engine.route(request, sid, transport, isUpgrade, false);
}

/**
 * The pool name a request tells this host, when it is new to it (null: nothing to store). The
 * edge names the host in a header, or forwards the client's request as it is; then the name the
 * Worker reached this object by (`ctx.id.name`, from idFromName) is the pool member's.
 */
export function newHostName(request: Request, stored: string | null, idName: string | undefined): string | null {
  const named = request.headers.get(HOST_HEADER) ?? (stored === null ? (idName ?? null) : null);
  return named && named !== stored ? named : null;
}
