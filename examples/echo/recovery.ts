/**
 * Connection-state recovery fixtures (test/e2e/recovery.test.ts, test/workerd/recovery*.test.ts):
 * a socket can ask what it is after a reconnect, and sockets in "recovery-watch" hear each
 * window that ended without a reconnect.
 */
import type { Server } from "../../durable-objects/socketio/server";

export function installRecoveryFixtures(io: Server): void {
  io.on("connection", (socket) => {
    socket.on("whoami-recovery", (ack: (state: unknown) => void) =>
      ack({ id: socket.id, recovered: socket.recovered, rooms: [...socket.rooms], data: socket.data }),
    );
  });
  io.on("recovery:expired", (expired) => {
    io.to("recovery-watch").emit("recovery:expired", { id: expired.id, reason: expired.reason, rooms: expired.rooms });
  });
}
