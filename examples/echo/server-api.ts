/**
 * The echo app's fixtures for the rest of Socket.IO's server API (test/workerd/server-api.test.ts):
 * dynamic namespaces (a regex and a function), `socket.use`, `onAny` / `onAnyOutgoing` and
 * `disconnecting`.
 */
import type { Server } from "../../worker/edgeio";

export function installServerApiFixtures(io: Server): void {
  // Children "/dyn-<digits>": the parent's middleware and listener are copied to each child.
  const dynamic = io.of(/^\/dyn-\d+$/);
  dynamic.use((socket, next) => {
    socket.data.viaParent = "regex";
    next();
  });
  dynamic.on("connection", (socket) => {
    socket.on("where", (ack: (where: unknown) => void) => ack({ nsp: socket.nsp, via: socket.data.viaParent, restored: socket.restored }));
  });

  // Children "/org-<name>", allowed only when the CONNECT's auth names that organisation.
  io.of((name, auth, next) => next(null, name.startsWith("/org-") && auth.org === name.slice("/org-".length))).on(
    "connection",
    (socket) => {
      socket.on("where", (ack: (where: unknown) => void) => ack({ nsp: socket.nsp, via: "function", restored: socket.restored }));
    },
  );

  const api = io.of("/api");
  api.on("connection", (socket) => {
    // Socket.IO emits a refusal as "error" on the server-side socket; this app forwards it.
    socket.use(([event], next) => (event === "forbidden" ? next(new Error("unauthorized event")) : next()));
    socket.on("error", (error: Error) => socket.emit("error", { message: error.message }));

    // Every incoming event, refused ones included (catch-all listeners run before `use`), kept in socket.data.
    socket.onAny((event: string) => {
      socket.data.seen = [...(socket.data.seen ?? []), event].slice(-20);
    });
    const outgoing: string[] = [];
    socket.onAnyOutgoing((event: string) => outgoing.push(event));

    socket.on("seen", (ack: (events: unknown) => void) => ack(socket.data.seen));
    socket.on("outgoing", (ack: (events: string[]) => void) => {
      socket.emit("ping-out", 1);
      ack([...outgoing]);
    });
    socket.on("allowed", (ack?: (ok: boolean) => void) => ack?.(true));
    socket.on("forbidden", (ack?: (ok: boolean) => void) => ack?.(true));
    socket.on("join", async (rooms: string[], ack: () => void) => {
      await socket.join(rooms);
      ack();
    });
    socket.on("children", (ack: (names: string[]) => void) => ack([...dynamic.children].map((child) => child.name)));
    // "disconnecting" still sees the rooms; "disconnect" comes after they were left.
    socket.on("disconnecting", (reason) => api.to("observers").emit("leaving", socket.id, [...socket.rooms], reason));
    socket.on("disconnect", () => api.to("observers").emit("left", socket.id, [...socket.rooms]));
  });
}
