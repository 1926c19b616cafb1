/**
 * socket.io-client 2.x (Engine.IO v3, Socket.IO v4 protocol), installed under the alias
 * `socket.io-client-v2`. It ships no types: the small surface the tests use is typed here.
 */
import { createRequire } from "node:module";
import { upgraded } from "./clients";

type Listener = (...args: never[]) => void;

export interface EngineV2 {
  id: string;
  transport: { name: string };
  on(event: string, listener: Listener): EngineV2;
  once(event: string, listener: Listener): EngineV2;
  /** engine.io-client 3.x sends its heartbeat ping through this. */
  ping(): void;
}

export interface SocketV2 {
  id: string;
  connected: boolean;
  io: { engine: EngineV2 };
  on(event: string, listener: Listener): SocketV2;
  once(event: string, listener: Listener): SocketV2;
  emit(event: string, ...args: unknown[]): SocketV2;
  close(): void;
}

type Lookup = (url: string, options?: Record<string, unknown>) => SocketV2;
const ioV2 = createRequire(import.meta.url)("socket.io-client-v2") as Lookup;

/** Connects a 2.x client; rejects with the server's error (2.x emits "error" for a refused CONNECT). */
export function connectV2(url: string, options: Record<string, unknown> = {}): Promise<SocketV2> {
  const socket = ioV2(url, { reconnection: false, forceNew: true, ...options });
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) => {
      socket.close();
      reject(error);
    };
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", fail);
    socket.once("error", fail);
  });
}

/** The arguments of the next `event`. */
export function nextV2(socket: SocketV2, event: string, timeoutMs = 5000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${timeoutMs}ms`)), timeoutMs);
    socket.once(event, ((...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args);
    }) as Listener);
  });
}

/** Emits with an ack callback (2.x has no emitWithAck) and resolves with the ack's arguments. */
export function emitV2(socket: SocketV2, event: string, ...args: unknown[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for "${event}"`)), 5000);
    socket.emit(event, ...args, (...reply: unknown[]) => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

/** Resolves once a polling 2.x client has upgraded to WebSocket. */
export function upgradedV2(socket: SocketV2, timeoutMs = 5000): Promise<void> {
  return upgraded(socket, timeoutMs);
}

/** The ConnectionHost of a 2.x client: its socket id on "/" is the (host-naming) Engine.IO sid. */
export function hostOfV2(socket: SocketV2): string {
  return Buffer.from(socket.io.engine.id.split(".")[0], "base64url").toString();
}
