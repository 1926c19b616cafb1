/** Socket.IO 4.8 in one Node process with the default in-memory adapter ("fork mode"). */
import { resolve } from "node:path";
import { freePort } from "../../test/helpers/service.ts";
import { forkReady, stopChild } from "./spawn.ts";
import type { RunningSystem } from "./types.ts";

export async function startSocketioSingle(): Promise<RunningSystem> {
  const port = await freePort();
  const server = await forkReady(resolve(import.meta.dirname, "socketio-server.ts"), { PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  return {
    id: "socketio-single",
    label: "Socket.IO, 1 process",
    wsUrls: [url],
    pollingUrls: [url],
    memoryPids: () => [server.pid!],
    cpuPids: () => [server.pid!],
    auxiliary: () => ({}),
    stop: () => stopChild(server),
  };
}
