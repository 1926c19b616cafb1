/**
 * Socket.IO 4.8 in two Node processes joined by @socket.io/redis-adapter and a local
 * redis-server. WebSocket clients connect to the processes round robin; long-polling clients
 * go through a round-robin proxy without sticky sessions, as a plain load balancer would.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { freePort } from "../../test/helpers/service.ts";
import { forkReady, startRedis, stopChild } from "./spawn.ts";
import type { RunningSystem } from "./types.ts";

const ProxyStats = z.object({ stats: z.record(z.string(), z.number()) });

export async function startSocketioRedis(): Promise<RunningSystem> {
  const redisPort = await freePort();
  const redis = await startRedis(redisPort);
  const ports = [await freePort(), await freePort()];
  const script = resolve(import.meta.dirname, "socketio-server.ts");
  const servers = await Promise.all(
    ports.map((port) => forkReady(script, { PORT: String(port), REDIS_URL: `redis://127.0.0.1:${redisPort}` })),
  );
  const proxyPort = await freePort();
  const proxy = await forkReady(resolve(import.meta.dirname, "rr-proxy.ts"), { PORT: String(proxyPort), UPSTREAMS: ports.join(",") });

  return {
    id: "socketio-redis",
    label: "Socket.IO + Redis adapter, 2 processes (WebSocket)",
    wsUrls: ports.map((port) => `http://127.0.0.1:${port}`),
    pollingUrls: [`http://127.0.0.1:${proxyPort}`],
    pollingId: "socketio-redis-polling",
    pollingLabel: "Socket.IO + Redis adapter, 2 processes (polling, no sticky sessions)",
    memoryProcesses: () => ({ "node #1": servers[0].pid!, "node #2": servers[1].pid! }),
    cpuPids: () => [...servers.map((s) => s.pid!), redis.pid!],
    auxiliary: () => ({ "redis-server": redis.pid!, "round-robin proxy": proxy.pid! }),
    async extra() {
      const reply = new Promise<unknown>((r) => proxy.once("message", r));
      proxy.send("stats");
      return { proxy: ProxyStats.parse(await reply).stats };
    },
    async stop() {
      await Promise.all([stopChild(proxy), ...servers.map(stopChild)]);
      await stopChild(redis);
    },
  };
}
