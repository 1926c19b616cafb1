/**
 * What routes a WebSocket's events (its session, whether it is an upgrade probe or the Worker's
 * poll channel), kept per WebSocket object beside its attachment. Every event read the whole
 * attachment back before (a pending session's handshake and kept-back sockets included, ~1.5 KB
 * deserialized per message: issue 11). Only a cache: a WebSocket object it has not seen (a new
 * instance after hibernation or eviction) is read from its attachment once. Every write that
 * changes these fields goes through `attach`; the others (poll-channels.ts) keep them as they are.
 */
import type { WebSocketAttachment } from "./types";

export type AttachmentRoute = Pick<WebSocketAttachment, "sid" | "probing" | "pollChannel">;

/**
 * The route rides on the WebSocket object itself (a symbol-keyed property, private to this
 * module), not in a WeakMap: a connect adds no ephemeron for the garbage collector to trace.
 * The runtime hands out one object per WebSocket while the instance lives, as the WeakMap relied on.
 */
const ROUTE = Symbol("edgeio.route");
type Routed = WebSocket & { [ROUTE]?: AttachmentRoute };

export function routeOf(ws: WebSocket): AttachmentRoute {
  let route = (ws as Routed)[ROUTE];
  if (!route) {
    const { sid, probing, pollChannel } = ws.deserializeAttachment() as WebSocketAttachment;
    route = { sid, probing, pollChannel };
    (ws as Routed)[ROUTE] = route;
  }
  return route;
}

/** Writes a client WebSocket's attachment (throws as serializeAttachment does, then nothing changes). */
export function attach(ws: WebSocket, attachment: WebSocketAttachment): void {
  ws.serializeAttachment(attachment);
  const route = (ws as Routed)[ROUTE];
  // The same route (a CONNECT's update of a pending session): nothing to replace.
  if (route?.sid === attachment.sid && route.probing === attachment.probing && route.pollChannel === attachment.pollChannel) return;
  (ws as Routed)[ROUTE] = { sid: attachment.sid, probing: attachment.probing, pollChannel: attachment.pollChannel };
}
