/** The warm-up before each system is measured (not measured itself). */
import { io } from "socket.io-client";
import { CLIENT_OPTIONS } from "./load/client-options.ts";
import type { RunningSystem } from "./systems/types.ts";

/** Opens `count` clients on `url` with `transports`, checks each with an acked echo, and closes them. */
async function touch(url: string, count: number, transports: Array<"polling" | "websocket">): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async () => {
      const socket = io(url, { ...CLIENT_OPTIONS, transports, reconnection: false, forceNew: true });
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("connect_error", reject);
      });
      try {
        for (const [event, arg] of [
          ["echo", "warm"],
          ["join", "warm-up"],
          ["leave", "warm-up"],
        ]) {
          await socket
            .timeout(10_000)
            .emitWithAck(event, arg)
            .catch((error: Error) => {
              throw new Error(`warm-up ${transports.join("+")} "${event}": ${error.message}`);
            });
        }
      } finally {
        socket.close();
      }
    }),
  );
}

/**
 * Boots every code path before measuring: enough WebSocket clients per URL that edgeio's
 * randomly chosen hosts (pool of 4) are all instantiated, plus a few polling clients where the
 * system speaks long-polling.
 */
export async function warmUp(system: RunningSystem): Promise<void> {
  for (const url of system.wsUrls) await touch(url, 24, ["websocket"]);
  // Straight to the servers (wsUrls), not through a proxy without sticky sessions.
  if (system.pollingUrls.length > 0) for (const url of system.wsUrls) await touch(url, 4, ["polling"]);
}
