/**
 * Runs the real socket.io-client inside workerd, next to `evictDurableObject`: its two
 * transports are pointed at the Worker under test (SELF) instead of the network.
 */
import { SELF } from "cloudflare:test";
import { Fetch, io, WebSocket as WebSocketTransport, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";

/** Long-polling through SELF.fetch (fetch's `credentials` option is not for Workers). */
// @ts-expect-error -- overrides engine.io-client's private `_fetch`, its one network call
class SelfPolling extends Fetch {
  _fetch(data?: string): Promise<Response> {
    const isPost = data !== undefined;
    return SELF.fetch(this.uri(), {
      method: isPost ? "POST" : "GET",
      body: isPost ? data : null,
      headers: isPost ? { "content-type": "text/plain;charset=UTF-8" } : {},
    });
  }
}

/** The browser-style WebSocket object engine.io-client expects, over a SELF.fetch upgrade. */
class SelfWebSocket {
  binaryType = "arraybuffer";
  readyState = 0;
  onopen: (() => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((error: unknown) => void) | null = null;
  private socket: WebSocket | null = null;

  constructor(uri: string) {
    void this.open(uri.replace(/^ws/, "http"));
  }

  private async open(url: string): Promise<void> {
    try {
      const response = await SELF.fetch(url, { headers: { Upgrade: "websocket" } });
      const socket = response.webSocket;
      if (!socket) throw new Error(`upgrade refused: ${response.status}`);
      socket.accept();
      this.socket = socket;
      this.readyState = 1;
      socket.addEventListener("message", (event) => this.onmessage?.({ data: event.data }));
      socket.addEventListener("close", (event) => {
        this.readyState = 3;
        this.onclose?.({ code: event.code, reason: event.reason });
      });
      socket.addEventListener("error", (event) => this.onerror?.(event));
      this.onopen?.();
    } catch (error) {
      this.onerror?.(error);
      this.onclose?.({ code: 1006, reason: String(error) });
    }
  }

  send(data: string | ArrayBuffer | ArrayBufferView): void {
    this.socket?.send(data as string | ArrayBuffer);
  }

  close(): void {
    this.readyState = 3;
    this.socket?.close(1000);
  }
}

class SelfWebSocketTransport extends WebSocketTransport {
  createSocket(uri: string): never {
    return new SelfWebSocket(uri) as never;
  }
}

export type InWorkerClientOptions = Partial<ManagerOptions & SocketOptions> & { mode: "polling" | "websocket" | "upgrade" };

export function connectInWorker(path: string, options: InWorkerClientOptions): Promise<Socket> {
  const { mode, ...rest } = options;
  const transports =
    mode === "polling" ? [SelfPolling] : mode === "websocket" ? [SelfWebSocketTransport] : [SelfPolling, SelfWebSocketTransport];
  const socket = io(`http://edgeio.test${path}`, {
    reconnection: false,
    forceNew: true,
    ...rest,
    transports: transports as never,
    upgrade: mode === "upgrade",
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}
