/**
 * Type test for the typed-event generics (checked by `npm run typecheck`, never run): each
 * `@ts-expect-error` line fails the typecheck if the typing stops catching that mistake, and
 * the other lines fail if it starts refusing correct code. Same interfaces as Socket.IO's docs.
 */
import { defineApp, type Server } from "./server";

interface ClientToServerEvents {
  hello: () => void;
  join: (room: string, ack: (ok: boolean) => void) => void;
}
interface ServerToClientEvents {
  noArg: () => void;
  basicEmit: (a: number, b: string, c: Uint8Array) => void;
  withAck: (d: string, callback: (e: number) => void) => void;
}
interface InterServerEvents {
  ping: () => void;
}
interface SocketData {
  name: string;
  age: number;
}

export const typedApp = defineApp<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>((io) => {
  io.emit("noArg");
  io.to("room").emit("basicEmit", 1, "2", new Uint8Array([3]));
  // @ts-expect-error unknown event name
  io.emit("nope");
  // @ts-expect-error wrong argument type
  io.to("room").emit("basicEmit", "1", "2", new Uint8Array([3]));

  io.of("/chat").on("connection", (socket) => {
    socket.data.name = "alice";
    // @ts-expect-error SocketData.age is a number
    socket.data.age = "old";
    socket.emit("withAck", "4", (e) => {
      const n: number = e;
      void n;
    });
    // @ts-expect-error missing arguments
    socket.emit("basicEmit", 1);
    socket.on("join", (room, ack) => {
      const name: string = room;
      ack(name.length > 0);
    });
    // @ts-expect-error the ack takes a boolean
    socket.on("join", (_room, ack) => ack("yes"));
    socket.on("disconnecting", (reason) => {
      const why: string = reason;
      void why;
    });
    socket.on("error", (error) => void error.message);
    // @ts-expect-error "hello" has no arguments
    socket.on("hello", (extra: number) => void extra);
    socket.timeout(1000).emit("withAck", "4", (error, e) => void [error.message, e.toFixed()]);
    void socket
      .timeout(1000)
      .emitWithAck("withAck", "4")
      .then((e) => e.toFixed());
    void socket.emitWithAck("withAck", "4").then((e) => e.toFixed());
    // @ts-expect-error "noArg" has no acknowledgement
    void socket.emitWithAck("noArg");
    socket.to("room").except("other").volatile.compress(false).emit("noArg");
    // @ts-expect-error broadcast operators keep the emit map
    socket.broadcast.emit("withAck", 4);
  });
});

/** Untyped by default: any event name and arguments, as Socket.IO without generics. */
export function untyped(io: Server): void {
  io.emit("anything", 1, { two: 2 });
  io.on("connection", (socket) => {
    socket.on("whatever", (a: string, b: number) => void [a, b]);
    socket.emit("free-form", Symbol.iterator.toString());
    socket.data.anything = true;
  });
}
