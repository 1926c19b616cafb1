/**
 * The default application, served by `npm run dev` / `wrangler deploy` without writing code:
 * namespace "/" with JWT, auth-webhook (session cookie) or opt-in guest access, a `user:{id}` room per user, `room:join` / `room:leave`
 * under a join policy with presence in the ack, `presence:set` / `presence:list`, relay of an
 * allowlist of events, a per-connection rate limit, and `POST /dev/token` while the development
 * JWT secret is in use. See docs/default-app.md.
 */
import { z } from "zod";
import { roomStub, userStub, type EdgeioBindings } from "../durable-objects/bindings";
import { jsonBytes, type PresenceSnapshot } from "../durable-objects/presence/types";
import { RoomJoinError } from "../durable-objects/socketio/room-join-error";
import { defineApp } from "../durable-objects/socketio/server";
import { installClientEventWebhooks } from "../durable-objects/webhooks/client-events";
import type { Socket } from "../durable-objects/socketio/socket";
import { hostOfSocketId } from "../protocol/ids";
import { authMiddleware, Authenticator, type AuthUser } from "./auth";
import { AuthWebhook } from "./auth-webhook";
import { appConfigFrom } from "./config";
import { RECOVERABLE_REASONS, recoveryOptionFromEnv } from "../durable-objects/recovery/options";
import { devTokenRoutes } from "./dev-token";
import { createJoinPolicy, RoomName, userRoom } from "./join-policy";
import { RateLimiter } from "./rate-limit";
import { installRelay, type Guard } from "./relay";

type Ack = (reply: unknown) => void;

const DeviceId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9:_\-.]+$/);
const PresenceSet = z.object({ room: RoomName.optional(), state: z.unknown() });

export default defineApp(
  (io, rawEnv) => {
    const config = appConfigFrom(rawEnv);
    const env = rawEnv as unknown as EdgeioBindings;
    const authenticator = new Authenticator(config.auth);
    const mayJoin = createJoinPolicy(config);
    const limiter = new RateLimiter(config.rateLimit);
    const nsp = io.of("/");
    // Client events listed in WEBHOOK_CLIENT_EVENTS go to the backend (off without WEBHOOK_URLS).
    installClientEventWebhooks(io, rawEnv);
    // Connection-state recovery (RECOVERY_MAX_DISCONNECTION_MS): the user's connection ends when the window does.
    io.on("recovery:expired", async (expired) => {
      const userId = (expired.data as { user?: { id?: string } } | null)?.user?.id;
      if (userId) await userStub(env, userId).removeConnection(expired.id);
    });

    // A JWT, else the auth webhook (session cookies), else a guest when ALLOW_GUESTS; else refused.
    const webhook = config.auth.webhook ? new AuthWebhook(config.auth.webhook, config.joinClaim) : null;
    nsp.use(authMiddleware(authenticator, { allowGuests: config.auth.allowGuests, webhook }));
    // One device per connection unless the client names its device (e.g. an id kept in localStorage).
    nsp.use((socket, next) => {
      const device = DeviceId.safeParse(socket.handshake.auth.deviceId);
      socket.data.presence = { deviceId: device.success ? device.data : `anon-${crypto.randomUUID()}` };
      next();
    });

    nsp.on("connection", async (socket) => {
      const user = socket.data.user as AuthUser;
      const who = { id: user.id, name: user.name };
      const guard = rateGuard(socket, limiter);
      const reply = (ack: unknown, value: unknown) => (typeof ack === "function" ? (ack as Ack)(value) : undefined);

      socket.on(
        "room:join",
        guard("room:join", async (room: unknown, ack: unknown) => {
          const name = RoomName.safeParse(room);
          if (!name.success) return reply(ack, { ok: false, error: "invalid_room", message: name.error.issues[0].message });
          const decision = await mayJoin(socket.nsp, name.data, user);
          if (!decision.ok) return reply(ack, decision);
          try {
            await socket.join(name.data);
          } catch (error) {
            if (error instanceof RoomJoinError) return reply(ack, { ok: false, error: error.code, message: error.message });
            throw error;
          }
          const snapshot = (await roomStub(env, socket.nsp, name.data).presence()) as PresenceSnapshot;
          reply(ack, { ok: true, room: name.data, ...snapshot });
        }),
      );

      socket.on(
        "room:leave",
        guard("room:leave", async (room: unknown, ack: unknown) => {
          const name = RoomName.safeParse(room);
          if (!name.success) return reply(ack, { ok: false, error: "invalid_room", message: name.error.issues[0].message });
          if (name.data === userRoom(user.id))
            return reply(ack, { ok: false, error: "forbidden", message: "the user room cannot be left" });
          await socket.leave(name.data);
          reply(ack, { ok: true, room: name.data });
        }),
      );

      socket.on(
        "presence:set",
        guard("presence:set", async (input: unknown, ack: unknown) => {
          const parsed = PresenceSet.safeParse(input);
          if (!parsed.success) return reply(ack, { ok: false, error: "invalid_payload", message: "expected { room?, state }" });
          const { room, state } = parsed.data;
          if (jsonBytes(state) > config.presence.maxStateBytes) {
            return reply(ack, {
              ok: false,
              error: "state_too_large",
              message: `presence state is limited to ${config.presence.maxStateBytes} bytes`,
            });
          }
          if (room !== undefined && !socket.rooms.has(room))
            return reply(ack, { ok: false, error: "not_in_room", message: `join ${room} first` });
          // Without a room the state is the connection's default: every room now, and rooms joined later.
          if (room === undefined) socket.data.presence = { ...socket.data.presence, state };
          const rooms = room !== undefined ? [room] : [...socket.rooms].filter((r) => r !== socket.id && r !== userRoom(user.id));
          await Promise.all(rooms.map((r) => roomStub(env, socket.nsp, r).setState(socket.id, state)));
          reply(ack, { ok: true });
        }),
      );

      socket.on(
        "presence:list",
        guard("presence:list", async (room: unknown, ack: unknown) => {
          const name = RoomName.safeParse(room);
          if (!name.success) return reply(ack, { ok: false, error: "invalid_room", message: name.error.issues[0].message });
          // Whoever may join a room may see who is in it.
          if (!socket.rooms.has(name.data)) {
            const decision = await mayJoin(socket.nsp, name.data, user);
            if (!decision.ok) return reply(ack, decision);
          }
          reply(ack, { ok: true, room: name.data, ...((await roomStub(env, socket.nsp, name.data).presence()) as PresenceSnapshot) });
        }),
      );

      installRelay(socket, config.relayEvents, guard);

      socket.on("disconnect", async (reason: string) => {
        limiter.forget(socket.id);
        // With recovery, a transport drop is provisional: the user stays connected until "recovery:expired".
        if (io.recovery && RECOVERABLE_REASONS.has(reason)) return;
        await userStub(env, user.id)
          .removeConnection(socket.id)
          .catch((error: unknown) => console.error("edgeio: UserDO disconnect failed", error));
      });

      // After an eviction the handler is replayed only to re-register listeners: no side effects.
      if (socket.restored) return;
      if (!socket.recovered) await socket.join(userRoom(user.id));
      await userStub(env, user.id).addConnection({
        socketId: socket.id,
        nsp: socket.nsp,
        deviceId: socket.data.presence.deviceId,
        host: hostOfSocketId(socket.id) ?? "unknown:0",
        user: who,
      });
      // Tells the client its identity, and that user-targeted delivery now reaches it.
      socket.emit("session", { user: who, deviceId: socket.data.presence.deviceId, guest: user.guest === true });
    });
  },
  {
    routes: devTokenRoutes,
    validate: (env) => void appConfigFrom(env),
    server: (env) => ({ connectionStateRecovery: recoveryOptionFromEnv(env) }),
  },
);

/** Wraps a handler in the connection's rate limit; beyond it the client gets `edgeio:error`. */
function rateGuard(socket: Socket, limiter: RateLimiter): Guard {
  return (event, handler) =>
    (...args: unknown[]) => {
      const decision = limiter.take(socket.id);
      if (decision.ok) return handler(...args);
      socket.emit("edgeio:error", { code: "rate_limited", event, retryAfterMs: decision.retryAfterMs });
      const ack = args[args.length - 1];
      if (typeof ack === "function")
        ack({ ok: false, error: "rate_limited", message: "too many events", retryAfterMs: decision.retryAfterMs });
    };
}
