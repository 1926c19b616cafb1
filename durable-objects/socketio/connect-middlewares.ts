/**
 * Runs a namespace's connect middlewares (`io.use((socket, next) => …)`) in order, as Socket.IO
 * does: the first `next(err)`, throw or rejection stops the chain and is the CONNECT's error;
 * then, once the socket is connected, its "connection" listeners.
 */
import type { ConnectionListener, Middleware, MiddlewareError } from "./namespace";
import type { Socket } from "./socket";

export async function runMiddlewares(middlewares: readonly Middleware[], socket: Socket): Promise<MiddlewareError | undefined> {
  for (const middleware of middlewares) {
    const error = await new Promise<MiddlewareError | undefined>((resolve) => {
      try {
        const result = middleware(socket, resolve);
        if (result instanceof Promise) result.catch((e: unknown) => resolve(asError(e)));
      } catch (e) {
        resolve(asError(e));
      }
    });
    if (error) return error;
  }
  return undefined;
}

function asError(value: unknown): MiddlewareError {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * Calls a namespace's "connection" listeners in order (those there at the start, as `.map`
 * visits them), logging what they throw. Returns a promise only when one of them is async: a
 * connect with plain listeners makes no promise per listener (issue 11).
 */
export function callConnectionListeners(listeners: readonly ConnectionListener[], socket: Socket): Promise<unknown> | null {
  const running: Array<Promise<unknown>> = [];
  for (let i = 0, count = listeners.length; i < count; i++) {
    const listener = listeners[i];
    if (!listener) continue;
    try {
      const result: unknown = listener(socket);
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === "function") {
        running.push(Promise.resolve(result).catch((error: unknown) => listenerThrew(socket, error)));
      }
    } catch (error) {
      listenerThrew(socket, error);
    }
  }
  return running.length > 0 ? Promise.all(running) : null;
}

/**
 * Runs the "connection" listeners for a new socket, then hands `socket.data` to `save` only if
 * they changed it; for a restored socket (rebuilt after eviction) the run is a replay without
 * side effects: its data is put back as it was and the replay ends.
 */
export async function runConnectionListeners(
  listeners: readonly ConnectionListener[],
  socket: Socket,
  save: (socketId: string, data: string) => void,
): Promise<void> {
  const persisted = JSON.stringify(socket.data ?? {});
  const running = callConnectionListeners(listeners, socket);
  if (running) await running;
  if (socket.restored) {
    socket.data = JSON.parse(persisted);
    socket.endReplay();
  } else {
    const data = JSON.stringify(socket.data ?? {});
    if (data !== persisted) save(socket.id, data);
  }
}

function listenerThrew(socket: Socket, error: unknown): void {
  console.error(`edgeio: "connection" handler of ${socket.nsp} threw`, error);
}
