/**
 * Runs a namespace's connect middlewares (`io.use((socket, next) => …)`) in order, as Socket.IO
 * does: the first `next(err)`, throw or rejection stops the chain and is the CONNECT's error.
 */
import type { Middleware, MiddlewareError } from "./namespace";
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
