/**
 * Relay of allowlisted client events (RELAY_EVENTS, e.g. typing:start) to a room the sender is
 * in: everyone else in the room receives `{ ...payload, room, user: { id, name } }`. The sender
 * is excluded and its identity is attached by the server, so it cannot be forged.
 */
import { z } from "zod";
import type { Socket } from "../durable-objects/socketio/socket";
import { RoomName } from "./join-policy";

const RelayPayload = z.object({ room: RoomName }).passthrough();

type Ack = ((reply: unknown) => void) | undefined;
export type Guard = (event: string, handler: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown;

export function installRelay(socket: Socket, events: readonly string[], guard: Guard): void {
  for (const event of events) {
    socket.on(
      event,
      guard(event, (payload: unknown, maybeAck?: unknown) => {
        const ack: Ack = typeof maybeAck === "function" ? (maybeAck as Ack) : undefined;
        const parsed = RelayPayload.safeParse(payload);
        if (!parsed.success) {
          const message = 'a relayed event needs an object payload with a valid "room"';
          socket.emit("edgeio:error", { code: "invalid_payload", event, message });
          return ack?.({ ok: false, error: "invalid_payload", message });
        }
        const { room } = parsed.data;
        if (!socket.rooms.has(room)) {
          socket.emit("edgeio:error", { code: "not_in_room", event, room });
          return ack?.({ ok: false, error: "not_in_room", message: `join ${room} first` });
        }
        const { id, name } = socket.data.user as { id: string; name: string };
        socket.to(room).emit(event, { ...parsed.data, room, user: { id, name } });
        ack?.({ ok: true });
      }),
    );
  }
}
