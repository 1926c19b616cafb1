/** Socket.IO 4.8 in one Node process with the default in-memory adapter ("fork mode"). */
import { resolve } from "node:path";
import { freePort } from "../../test/helpers/service.ts";
import { forkReady, stopChild } from "./spawn.ts";
import type { RunningSystem } from "./types.ts";

/** `faulty`: a server that drops and duplicates broadcasts on purpose, for the harness self-check. */
export async function startSocketioSingle(faulty = false): Promise<RunningSystem> {
  const port = await freePort();
  const server = await forkReady(resolve(import.meta.dirname, "socketio-server.ts"), {
    PORT: String(port),
    BENCH_FAULTS: faulty ? "1" : "0",
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    id: faulty ? "socketio-faulty" : "socketio-single",
    label: faulty ? "Socket.IO with injected faults (self-check)" : "Socket.IO, 1 process",
    wsUrls: [url],
    pollingUrls: [url],
    memoryProcesses: () => ({ node: server.pid! }),
    cpuPids: () => [server.pid!],
    auxiliary: () => ({}),
    stop: () => stopChild(server),
  };
}
