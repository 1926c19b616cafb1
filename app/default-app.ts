/**
 * The default application: useful with zero code. Namespace "/" accepts guests; clients
 * join and leave rooms with an acknowledgement, and relay an allowlist of events to a room
 * they are in (the sender excluded, its identity attached).
 */
import { defineApp } from "../durable-objects/socketio/server";
import { z } from "zod";

const RoomName = z.string().min(1).max(128).regex(/^[A-Za-z0-9:_\-.]+$/, "room names use letters, digits and : _ - .");
const RelayPayload = z.object({ room: RoomName }).passthrough();
const RELAYED_EVENTS = ["typing:start", "typing:stop", "message"] as const;

export default defineApp((io) => {
  io.on("connection", (socket) => {
    socket.on("room:join", async (room: unknown, ack?: (reply: unknown) => void) => {
      const name = RoomName.safeParse(room);
      if (!name.success) return ack?.({ ok: false, error: "invalid_room", message: name.error.issues[0].message });
      await socket.join(name.data);
      ack?.({ ok: true, room: name.data });
    });

    socket.on("room:leave", async (room: unknown, ack?: (reply: unknown) => void) => {
      const name = RoomName.safeParse(room);
      if (!name.success) return ack?.({ ok: false, error: "invalid_room", message: name.error.issues[0].message });
      await socket.leave(name.data);
      ack?.({ ok: true, room: name.data });
    });

    for (const event of RELAYED_EVENTS) {
      socket.on(event, (payload: unknown) => {
        const parsed = RelayPayload.safeParse(payload);
        if (!parsed.success || !socket.rooms.has(parsed.data.room)) {
          socket.emit("error:relay", { event, error: "not_in_room" });
          return;
        }
        socket.to(parsed.data.room).emit(event, { ...parsed.data, from: socket.id });
      });
    }
  });
});
