/** Helpers for end-to-end tests of the default app (root wrangler.toml). */
import { SignJWT } from "jose";
import { io, type Socket } from "socket.io-client";
import type { ClientOptions } from "./clients";

/** The secret the tests start the service with (JWT_SECRET var). */
export const TEST_JWT_SECRET = "edgeio-test-jwt-secret-0123456789";

export interface SessionInfo {
  user: { id: string; name: string };
  deviceId: string;
  guest: boolean;
}

export interface Client {
  socket: Socket;
  session: SessionInfo;
  /** Every event received (name, first argument), in order. */
  events: Array<[string, unknown]>;
}

export async function hs256(
  claims: Record<string, unknown>,
  options: { secret?: string; expiresIn?: string | number } = {},
): Promise<string> {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt();
  if (options.expiresIn !== undefined) jwt = jwt.setExpirationTime(options.expiresIn);
  else jwt = jwt.setExpirationTime("1h");
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

/**
 * Connects and resolves once the default app sent "session" (the socket is then in its user
 * room and registered with its UserDO). Listeners are attached before connecting, so nothing is missed.
 */
export function connectUser(url: string, options: ClientOptions = {}): Promise<Client> {
  const socket = io(url, { reconnection: false, forceNew: true, ...options });
  const events: Array<[string, unknown]> = [];
  socket.onAny((event: string, payload: unknown) => events.push([event, payload]));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no session event in 10s")), 10_000);
    socket.once("session", (session: SessionInfo) => {
      clearTimeout(timer);
      resolve({ socket, session, events });
    });
    socket.once("connect_error", (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
  });
}

/** Resolves with the `connect_error` a connection attempt gets (rejects if it connects). */
export function connectError(url: string, options: ClientOptions = {}): Promise<Error & { data?: any }> {
  const socket = io(url, { reconnection: false, forceNew: true, ...options });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => {
      socket.close();
      reject(new Error("connected, but a connect_error was expected"));
    });
    socket.once("connect_error", (error) => {
      socket.close();
      resolve(error as Error & { data?: any });
    });
  });
}

export function ack<T = any>(socket: Socket, event: string, ...args: unknown[]): Promise<T> {
  return socket.timeout(5000).emitWithAck(event, ...args) as Promise<T>;
}

/** Waits until `predicate` holds, polling (for eventually-true conditions, never for timing). */
export async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function count(client: Client, event: string, match: (payload: any) => boolean = () => true): number {
  return client.events.filter(([name, payload]) => name === event && match(payload)).length;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
