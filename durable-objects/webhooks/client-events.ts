/**
 * Forwards a configured list of client events (WEBHOOK_CLIENT_EVENTS) to the webhook URLs as
 * `client.event`. When the client asked for an ack, the event is POSTed at once and the ack
 * is answered with the first URL's JSON response, so the app logic can live in the backend.
 *
 *   export default defineApp((io, env) => { installClientEventWebhooks(io, env); … });
 */
import { ConfigError } from "../../protocol/config-vars";
import { webhookConfigFrom } from "./config";
import { encodeBinaryMarkers } from "../../protocol/binary-markers";
import type { AppEnv, Server } from "../socketio/server";
import type { Socket } from "../socketio/socket";
import { deliverWebhookNow, queueWebhook } from "./queue";

export interface ClientEventWebhookOptions {
  /** Namespaces whose sockets forward events; default ["/"]. Each must be one the app declares. */
  namespaces?: string[];
}

/** What the backend receives in `data` of a `client.event` webhook. */
function payload(socket: Socket, event: string, args: unknown[]): Record<string, unknown> {
  const user = (socket.data as { user?: { id?: unknown } } | undefined)?.user;
  return {
    namespace: socket.nsp,
    event,
    args: encodeBinaryMarkers(args),
    socketId: socket.id,
    userId: user?.id ?? null,
    rooms: [...socket.rooms],
  };
}

export function installClientEventWebhooks(io: Server, env: AppEnv, options: ClientEventWebhookOptions = {}): void {
  let events: string[];
  try {
    const config = webhookConfigFrom(env);
    if (config.urls.length === 0) return;
    events = config.clientEvents;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`edgeio: client event webhooks are off: ${error.message}`);
    return;
  }
  if (events.length === 0) return;

  for (const name of options.namespaces ?? ["/"]) {
    io.of(name).on("connection", (socket) => {
      for (const event of events) {
        socket.on(event, async (...args: unknown[]) => {
          const ack = typeof args[args.length - 1] === "function" ? (args.pop() as (...answer: unknown[]) => void) : null;
          const data = payload(socket, event, args);
          if (!ack) return queueWebhook(env, "client.event", data);
          try {
            const result = await deliverWebhookNow(env, "client.event", data);
            if (result?.ok) ack(result.response);
            else ack({ error: { code: "webhook_failed", status: result?.status ?? 0 } });
          } catch (error) {
            console.error(`edgeio: webhook for client event "${event}" failed`, error);
            ack({ error: { code: "webhook_failed", status: 0 } });
          }
        });
      }
    });
  }
}
