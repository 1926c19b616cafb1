/**
 * @edgeio/server: the library entry of the npm package. It only re-exports the repository's
 * modules (worker/, durable-objects/, app/), which build.mjs bundles into dist/ with their
 * declarations, so the sources stay where the rest of the repository edits them.
 */

// The Worker, the app definition and the Durable Object classes wrangler.toml binds; with them
// `clusterStats(env)` (what GET /v1/stats answers, for an app's own health route) and `prometheusText`.
export * from "../../../worker/edgeio";
export { default as defaultApp } from "../../../app/default-app";
export type { EdgeioBindings } from "../../../durable-objects/bindings";
export type { Handshake } from "../../../durable-objects/socketio/types";
export { RoomJoinError } from "../../../durable-objects/socketio/room-join-error";

// JWT verification (jose; algorithms pinned, JWKS or a shared secret) as a namespace middleware.
export { Authenticator, authMiddleware, tokenOf, MAX_TOKEN_BYTES } from "../../../app/auth";
export type { AuthFailureCode, AuthMiddlewareOptions, AuthResult, AuthUser } from "../../../app/auth";
// The authentication webhook (AUTH_WEBHOOK_URL: session cookies answered by your backend), for authMiddleware's `webhook`.
export { AuthWebhook } from "../../../app/auth-webhook";
export type { AuthWebhookRequest } from "../../../app/auth-webhook";
export { appConfigFrom, parseAppConfig, DEFAULT_JOIN_POLICY, JWT_ALGORITHMS } from "../../../app/config";
/** `POST /dev/token {name}`: development JWTs, served only while the development secret is in use. */
export { devTokenRoutes, devUserId } from "../../../app/dev-token";
export type { AppConfig, AuthConfig, AuthWebhookConfig, JoinRule, JwtAlgorithm } from "../../../app/config";
export type { Middleware, MiddlewareError } from "../../../durable-objects/socketio/server";

// Per-connection rate limiting, join policies, the event relay.
export { RateLimiter } from "../../../app/rate-limit";
export type { RateDecision, RateLimitOptions } from "../../../app/rate-limit";
export { createJoinPolicy, RoomName } from "../../../app/join-policy";
export type { JoinDecision } from "../../../app/join-policy";
export { installRelay } from "../../../app/relay";
export type { Guard } from "../../../app/relay";

// Rooms, users and presence.
export { userRoom, USER_ROOM_PREFIX } from "../../../durable-objects/socketio/private-rooms";
export type { PresenceCounts, PresenceEntry, PresenceMeta, PresenceSnapshot, PresenceUser } from "../../../durable-objects/presence/types";
export type { UserInfo } from "../../../durable-objects/user";
export { roomPresence, userStatus, emitToUser, trackUser, roomStub, userStub } from "./helpers";
