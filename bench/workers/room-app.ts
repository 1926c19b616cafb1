/**
 * The bench's edgeio app: the room workload's four events and nothing else, written with
 * edgeio's handler API, as the floor (floor.ts + sio-lite.ts) and PartyServer (party.ts)
 * implement them: `join` and `leave` (acked), `echo` (acked with its arguments) and
 * `io-to-room` (a broadcast to a room, the sender included). No welcome emit, no socket.data,
 * no other listeners: the ratios then compare the same work. `--edgeio-app echo` runs the
 * echo example (examples/echo) instead, whose handlers do more than the workload.
 */
import { defineApp } from "../../worker/edgeio";

/** The optional acknowledgement callback a client event ends with. */
const ackOf = (value: unknown): ((...args: unknown[]) => void) | null =>
  typeof value === "function" ? (value as (...args: unknown[]) => void) : null;

export default defineApp((io) => {
  io.on("connection", (socket) => {
    socket.on("join", async (room: unknown, ack: unknown) => {
      if (typeof room !== "string") return;
      await socket.join(room);
      ackOf(ack)?.();
    });
    socket.on("leave", async (room: unknown, ack: unknown) => {
      if (typeof room !== "string") return;
      await socket.leave(room);
      ackOf(ack)?.();
    });
    socket.on("echo", (...args: unknown[]) => {
      const ack = ackOf(args[args.length - 1]);
      if (ack) ack(...args.slice(0, -1));
    });
    socket.on("io-to-room", (room: unknown, event: unknown, ...args: unknown[]) => {
      if (typeof room === "string" && typeof event === "string") io.to(room).emit(event, ...args);
    });
  });
});
