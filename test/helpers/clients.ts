/** Helpers for driving real socket.io-client instances in tests. */
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";

export type ClientOptions = Partial<ManagerOptions & SocketOptions>;

export const TRANSPORT_MODES: Array<{ name: string; transports?: string[] }> = [
  { name: "polling", transports: ["polling"] },
  { name: "websocket", transports: ["websocket"] },
  { name: "polling+upgrade" },
];

export function connect(url: string, options: ClientOptions = {}): Promise<Socket> {
  const socket = io(url, { reconnection: false, forceNew: true, ...options });
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => {
      socket.close();
      reject(error);
    };
    // Only the first connect: with `reconnection: true`, a later failed attempt must not close the socket.
    socket.once("connect", () => {
      socket.off("connect_error", failed);
      resolve(socket);
    });
    socket.once("connect_error", failed);
  });
}

/** The ConnectionHost a socket lives on, read from its (signed, host-naming) socket id. */
export function hostOf(socket: Socket): string {
  return Buffer.from(socket.id!.split(".")[0], "base64url").toString();
}

/** Connects until the new socket lands on a host not in `avoid` (hosts are chosen at random). */
export async function connectOnOtherHost(url: string, avoid: string[], options: ClientOptions = {}): Promise<Socket> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const socket = await connect(url, options);
    if (!avoid.includes(hostOf(socket))) return socket;
    socket.close();
  }
  throw new Error(`no host other than ${avoid.join(", ")} after 50 attempts`);
}

/** The arguments of the next `event` on `socket`. */
export function nextEventArgs(socket: Socket, event: string, timeoutMs = 5000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${timeoutMs}ms`)), timeoutMs);
    socket.once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/** The first argument of the next `event` on `socket`. */
export async function nextEvent<T = unknown>(socket: Socket, event: string, timeoutMs = 5000): Promise<T> {
  return (await nextEventArgs(socket, event, timeoutMs))[0] as T;
}

/** What `upgraded` needs of a client: its Engine.IO socket (socket.io-client 4.x and 2.x alike). */
interface UpgradingClient {
  io: { engine: { transport: { name: string }; once(event: "upgrade", listener: () => void): unknown } };
}

/** Resolves when the upgrade to WebSocket has happened (or immediately if already there). */
export function upgraded(socket: UpgradingClient, timeoutMs = 5000): Promise<void> {
  if (socket.io.engine.transport.name === "websocket") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no upgrade")), timeoutMs);
    socket.io.engine.once("upgrade", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
