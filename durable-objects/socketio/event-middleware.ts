/**
 * `socket.use((packet, next) => …)`: middlewares run for every incoming event, in order, as
 * Socket.IO 4.8's `Socket#run`. The packet is `[event, ...args]` (an acknowledgement callback
 * last, if the client asked for one); a middleware may change it in place. The first
 * `next(err)` stops the chain: the socket then emits "error" server-side and the event's
 * listeners do not run. A middleware that throws or rejects counts as `next(err)`, and one
 * that never calls `next` holds only that event.
 */

/** `[eventName, ...args]`, Socket.IO's `Event`. */
// biome-ignore lint/suspicious/noExplicitAny: events carry whatever the client sent, as in Socket.IO
export type EventPacket = [string, ...any[]];

export type EventMiddleware = (packet: EventPacket, next: (error?: Error) => void) => void | Promise<void>;

/** Runs `middlewares` over `packet`; resolves with the first error passed to `next`, if any. */
export async function runEventMiddlewares(middlewares: readonly EventMiddleware[], packet: EventPacket): Promise<Error | undefined> {
  for (const middleware of [...middlewares]) {
    const error = await new Promise<Error | undefined>((resolve) => {
      try {
        const result = middleware(packet, (err) => resolve(err ?? undefined));
        if (result instanceof Promise) result.catch((e: unknown) => resolve(asError(e)));
      } catch (e) {
        resolve(asError(e));
      }
    });
    if (error) return error;
  }
  return undefined;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
