/**
 * An app with lifecycle hooks (`defineApp(setup, { hooks })`): an operators' dashboard on
 * namespace `/admin` hears, with no backend in between, when users come online and go offline
 * on `/`, when their devices come and go, and when presence rooms fill and empty. It doubles as
 * the fixture of test/e2e/lifecycle-hooks.test.ts. Run it with
 * `npx wrangler dev --config examples/hooks/wrangler.toml --var ENVIRONMENT:development`.
 */
import { trackUser } from "../../packages/server/src/helpers";
import { defineApp } from "../../worker/edgeio";

export default defineApp(
  (io, env) => {
    // Users: who a connection is comes from its CONNECT auth here (an app would verify a token).
    io.use((socket, next) => {
      const { userId, name, deviceId } = socket.handshake.auth as { userId?: unknown; name?: unknown; deviceId?: unknown };
      if (typeof userId !== "string" || userId === "") return next(new Error("userId required"));
      socket.data.user = { id: userId, name: typeof name === "string" ? name : userId };
      if (typeof deviceId === "string") socket.data.presence = { deviceId };
      next();
    });
    io.on("connection", async (socket) => {
      socket.on("join", async (room: string, ack?: () => void) => {
        await socket.join(room); // a socket with data.user is a presence member: room edges
        ack?.();
      });
      socket.on("leave", async (room: string, ack?: () => void) => {
        await socket.leave(room);
        ack?.();
      });
      await trackUser(env, socket); // user:<id> and the UserDO: online/offline, device edges
      socket.emit("tracked");
    });
    io.of("/admin").on("connection", () => {});
  },
  {
    hooks: {
      async userOnline({ user, devices }, { emitter }) {
        await emitter.of("/admin").emit("presence:online", { user, devices });
      },
      async userOffline({ user }, { emitter }) {
        await emitter.of("/admin").emit("presence:offline", { user });
      },
      async deviceConnected({ user, deviceId }, { emitter }) {
        await emitter.of("/admin").emit("device:online", { user: user.id, deviceId });
      },
      async deviceDisconnected({ user, deviceId }, { emitter }) {
        await emitter.of("/admin").emit("device:offline", { user: user.id, deviceId });
      },
      // Into the room itself (the RoomDO running the hook is asked for its own hosts).
      async roomOccupied({ nsp, room }, { emitter }) {
        await emitter.of("/admin").emit("room:occupied", { room });
        await emitter.of(nsp).to(room).emit("room:occupied", { room });
      },
      // Both namespaces at once: the dashboard, and every socket of the room's namespace.
      async roomVacated({ nsp, room }, { emitter }) {
        await emitter.of(["/admin", nsp]).emit("room:vacated", { room });
      },
      // A hook that fails on its first run, in rooms named `flaky:*`: the call is retried (at least once).
      async memberAdded({ room, user }, { emitter, attempt }) {
        if (room.startsWith("flaky:") && attempt === 1) throw new Error("first attempt fails on purpose");
        await emitter.of("/admin").emit("member:added", { room, user: user.id, attempt });
      },
    },
  },
);
