/**
 * A Socket.IO 4.8 server process implementing the same events as the echo example app
 * (examples/echo/app.ts) that the benchmark drives on edgeio: `join`/`leave` with ack,
 * `echo` with ack, `io-to-room` and `to-room`. With REDIS_URL it uses @socket.io/redis-adapter.
 * Started by bench/systems/socketio.ts; reports "ready" over IPC.
 */
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";
import { z } from "zod";

const env = z
  .object({
    PORT: z.coerce.number().int().positive(),
    REDIS_URL: z.string().url().optional(),
    /** Harness self-check only: drop every broadcast whose seq % 10 == 3, send seq % 10 == 7 twice. */
    BENCH_FAULTS: z.enum(["0", "1"]).default("0"),
  })
  .parse(process.env);

const faults = env.BENCH_FAULTS === "1";
const seqOf = (args: unknown[]) => {
  const first = args[0] as { seq?: unknown } | undefined;
  return typeof first?.seq === "number" ? first.seq : -1;
};

const http = createServer();
// Socket.IO's defaults (pingInterval 25 s, pingTimeout 20 s, 1 MB payloads) match edgeio's.
const io = new Server(http);

if (env.REDIS_URL) {
  const pub = createClient({ url: env.REDIS_URL });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
}

io.on("connection", (socket) => {
  socket.on("echo", (...args: unknown[]) => {
    const ack = args[args.length - 1];
    if (typeof ack === "function") ack(...args.slice(0, -1));
    else socket.emit("echo", ...args);
  });
  socket.on("join", async (room: string, ack?: () => void) => {
    await socket.join(room);
    ack?.();
  });
  socket.on("leave", async (room: string, ack?: () => void) => {
    await socket.leave(room);
    ack?.();
  });
  socket.on("to-room", (room: string, event: string, ...args: unknown[]) => socket.to(room).emit(event, ...args));
  socket.on("io-to-room", (room: string, event: string, ...args: unknown[]) => {
    if (faults && seqOf(args) % 10 === 3) return;
    io.to(room).emit(event, ...args);
    if (faults && seqOf(args) % 10 === 7) io.to(room).emit(event, ...args);
  });
});

http.listen(env.PORT, "127.0.0.1", () => process.send?.("ready"));
process.on("disconnect", () => process.exit(0));
