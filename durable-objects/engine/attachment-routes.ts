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

const routes = new WeakMap<WebSocket, AttachmentRoute>();

export function routeOf(ws: WebSocket): AttachmentRoute {
  let route = routes.get(ws);
  if (!route) {
    const { sid, probing, pollChannel } = ws.deserializeAttachment() as WebSocketAttachment;
    route = { sid, probing, pollChannel };
    routes.set(ws, route);
  }
  return route;
}

/** Writes a client WebSocket's attachment (throws as serializeAttachment does, then nothing changes). */
export function attach(ws: WebSocket, attachment: WebSocketAttachment): void {
  ws.serializeAttachment(attachment);
  const route = routes.get(ws);
  // The same route (a CONNECT's update of a pending session): nothing to replace.
  if (route?.sid === attachment.sid && route.probing === attachment.probing && route.pollChannel === attachment.pollChannel) return;
  routes.set(ws, { sid: attachment.sid, probing: attachment.probing, pollChannel: attachment.pollChannel });
}
