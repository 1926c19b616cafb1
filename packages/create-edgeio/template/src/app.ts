/**
 * Your realtime app, in the shape of Socket.IO's server API. It runs inside the Durable Object
 * that owns each connection; `wrangler dev` runs it locally, `wrangler deploy` on Cloudflare.
 * The whole API: the "Handler API" section of the README of @edgeio/server.
 */
import {
  appConfigFrom,
  Authenticator,
  authMiddleware,
  defineApp,
  devTokenRoutes,
  RateLimiter,
  RoomJoinError,
  RoomName,
  roomPresence,
  trackUser,
  userRoom,
  userStatus,
  type AuthUser,
} from "@edgeio/server";

type Ack = (reply: unknown) => void;

export default defineApp(
  (io, env) => {
    // JWT_SECRET / JWT_JWKS_URL, ALLOW_GUESTS, RATE_LIMIT_* … from wrangler.toml [vars] and secrets.
    const config = appConfigFrom(env);
    const limiter = new RateLimiter(config.rateLimit);

    // A JWT (auth.token, `Authorization: Bearer` or ?token=) sets socket.data.user; without one a
    // guest only when ALLOW_GUESTS=true (off by default, in development too); else a clear
    // connect_error. Session cookies: pass `webhook: new AuthWebhook(config.auth.webhook, …)`.
    io.use(authMiddleware(new Authenticator(config.auth), { allowGuests: config.auth.allowGuests }));

    io.on("connection", async (socket) => {
      const user = socket.data.user as AuthUser;

      socket.on("room:join", async (room: unknown, ack?: Ack) => {
        const name = RoomName.safeParse(room);
        if (!name.success) return ack?.({ ok: false, error: "invalid_room" });
        try {
          await socket.join(name.data); // also records the user's presence in the room
        } catch (error) {
          if (error instanceof RoomJoinError) return ack?.({ ok: false, error: error.code });
          throw error;
        }
        ack?.({ ok: true, room: name.data, ...(await roomPresence(env, name.data, socket.nsp)) });
      });

      socket.on("room:leave", async (room: unknown, ack?: Ack) => {
        // The user's own room stays: it is how the HTTP API's `users` and emitToUser reach this connection.
        if (typeof room !== "string" || room === userRoom(user.id)) return ack?.({ ok: false, error: "invalid_room" });
        await socket.leave(room);
        ack?.({ ok: true });
      });

      socket.on("message", (room: unknown, text: unknown) => {
        if (typeof room !== "string" || !socket.rooms.has(room) || typeof text !== "string") return;
        if (!limiter.take(socket.id).ok) return socket.emit("error:rate_limited", { event: "message" });
        socket.to(room).emit("message", { room, text: text.slice(0, 2000), user: { id: user.id, name: user.name } });
      });

      socket.on("disconnect", () => limiter.forget(socket.id));

      // The user's room `user:<id>` and online/offline across tabs and devices (GET /users/:id).
      await trackUser(env, socket);
      socket.emit("welcome", { id: socket.id, user: { id: user.id, name: user.name } });
    });
  },
  {
    // HTTP routes beside the Engine.IO endpoint and /v1 (a Hono app).
    routes: (http) => {
      devTokenRoutes(http); // POST /dev/token {"name":"ada"} while the development JWT secret is in use
      http.get("/rooms/:room", async (c) => {
        const room = RoomName.safeParse(c.req.param("room"));
        if (!room.success) return c.json({ error: "invalid_room" }, 400);
        const { counts } = await roomPresence(c.env, room.data);
        return c.json({ room: room.data, ...counts });
      });
      http.get("/users/:id", async (c) => {
        const { online, connections } = await userStatus(c.env, c.req.param("id"));
        return c.json({ online, connections });
      });
    },
    // Checked on the first request: a bad value answers 500 invalid_configuration naming it.
    validate: (env) => void appConfigFrom(env),
  },
);
