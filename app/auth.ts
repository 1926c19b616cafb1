/**
 * JWT authentication with `jose`: HMAC (HS256…) with a shared secret, RSA/ECDSA/EdDSA with a JWKS URL
 * (cached per isolate, refetched on an unknown `kid`). Algorithms are pinned by configuration:
 * `none` is never accepted, and the key is chosen by the algorithm family, so an HS256 token
 * can never be checked against an RSA public key (the HS/RS confusion attack). Keys named by the
 * token itself (`jwk`, `jku`, `x5u`, `x5c` headers) are never used. Tokens over MAX_TOKEN_BYTES are
 * refused before parsing; `iat` in the future is refused like `nbf` (jose checks it only with
 * maxTokenAge). The user id is the JWT_USER_CLAIM claim (default `sub`).
 *
 * Also the default app's connect middleware: a JWT, else the auth webhook (auth-webhook.ts,
 * session cookies), else a guest when ALLOW_GUESTS, else a refusal naming what to send.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWSHeaderParameters, type FlattenedJWSInput } from "jose";
import { z } from "zod";
import type { AuthConfig } from "./config";
import type { Middleware } from "../durable-objects/socketio/server";
import type { Handshake } from "../durable-objects/socketio/types";
import { DisplayName, unauthorized, UserId, UserIdValue, type AuthFailureCode, type AuthUser } from "./auth-user";
import type { AuthWebhook } from "./auth-webhook";

export type { AuthFailureCode, AuthUser } from "./auth-user";

export type AuthResult = { ok: true; user: AuthUser; claims: JWTPayload } | { ok: false; code: AuthFailureCode; message: string };

/** A compact JWS this long is no identity token; refusing it early bounds the work an attacker causes. */
export const MAX_TOKEN_BYTES = 8 * 1024;

const jwksCache = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function jwksFor(url: string, cooldownMs: number) {
  let jwks = jwksCache.get(url);
  if (!jwks) {
    // jose caches the key set and refetches (at most once per cooldown) when a token names an unknown kid.
    jwks = createRemoteJWKSet(new URL(url), { cooldownDuration: cooldownMs, cacheMaxAge: 10 * 60_000 });
    jwksCache.set(url, jwks);
  }
  return jwks;
}

export class Authenticator {
  private readonly secret: Uint8Array | null;

  constructor(private readonly config: AuthConfig) {
    this.secret = config.secret ? new TextEncoder().encode(config.secret) : null;
  }

  /** False when no algorithm is enabled (no JWT_SECRET nor JWKS): then a token can only be the webhook's business. */
  get configured(): boolean {
    return this.config.algorithms.length > 0;
  }

  /** Verifies a compact JWT and maps its claims to a user. Never throws. */
  async verify(token: string): Promise<AuthResult> {
    const { config } = this;
    // A compact JWS is ASCII, so its length is its size (anything else fails to parse anyway).
    if (token.length > MAX_TOKEN_BYTES)
      return { ok: false, code: "invalid_token", message: `tokens are limited to ${MAX_TOKEN_BYTES} bytes` };
    try {
      const { payload } = await jwtVerify(token, (header: JWSHeaderParameters, input: FlattenedJWSInput) => this.keyFor(header, input), {
        algorithms: config.algorithms,
        issuer: config.issuer,
        audience: config.audience,
        clockTolerance: config.clockTolerance,
      });
      if (typeof payload.iat === "number" && payload.iat > Date.now() / 1000 + config.clockTolerance) {
        return { ok: false, code: "token_not_yet_valid", message: 'the token\'s "iat" lies in the future' };
      }
      // JWT_USER_CLAIM: "sub" by default, or the claim an existing backend puts its user id in ("userId").
      // `sub` is a string by RFC 7519; a claim of the backend's own (userId) may be an integer.
      const id = (config.userClaim === "sub" ? UserId : UserIdValue).safeParse(payload[config.userClaim]);
      if (!id.success) return { ok: false, code: "invalid_claims", message: `the token has no usable "${config.userClaim}" claim` };
      return { ok: true, user: this.userOf(id.data, payload), claims: payload };
    } catch (error) {
      return failure(error);
    }
  }

  private keyFor(header: JWSHeaderParameters, input: FlattenedJWSInput) {
    const alg = header.alg ?? "";
    if (!(this.config.algorithms as string[]).includes(alg))
      throw new errors.JOSEAlgNotAllowed(`"alg" (Algorithm) Header Parameter value not allowed`);
    if (alg.startsWith("HS")) {
      if (!this.secret) throw new errors.JOSEAlgNotAllowed("HMAC tokens are not configured");
      return this.secret;
    }
    if (!this.config.jwksUrl) throw new errors.JOSEAlgNotAllowed("no JWKS configured");
    return jwksFor(this.config.jwksUrl, this.config.jwksCooldownMs)(header, input);
  }

  private userOf(id: string, claims: JWTPayload): AuthUser {
    const named = [claims.name, claims.preferred_username, claims.nickname]
      .map((value) => DisplayName.safeParse(value))
      .find((r) => r.success);
    const user: AuthUser = { id, name: named?.success ? named.data : id };
    for (const claim of this.config.userClaims) {
      if (claim !== "id" && claim !== "name" && claim !== "guest" && claims[claim] !== undefined) user[claim] = claims[claim];
    }
    return user;
  }
}

function failure(error: unknown): AuthResult {
  if (error instanceof errors.JWTExpired) return { ok: false, code: "token_expired", message: "the token has expired" };
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "nbf" || error.claim === "iat") return { ok: false, code: "token_not_yet_valid", message: error.message };
    return { ok: false, code: "invalid_claims", message: error.message };
  }
  if (
    error instanceof errors.JWKSTimeout ||
    (error instanceof Error && /fetch|network/i.test(error.message) && !(error instanceof errors.JOSEError))
  ) {
    return { ok: false, code: "auth_unavailable", message: "the key set could not be fetched" };
  }
  return { ok: false, code: "invalid_token", message: error instanceof Error ? error.message : "invalid token" };
}

const BEARER = /^Bearer\s+(\S+)$/i;

/** The token from CONNECT `auth.token`, else `Authorization: Bearer`, else the `token` query parameter. */
export function tokenOf(handshake: Handshake): string | null {
  const fromAuth = handshake.auth.token;
  if (typeof fromAuth === "string" && fromAuth.length > 0) return fromAuth;
  const header = handshake.headers.authorization ?? handshake.headers.Authorization;
  const bearer = typeof header === "string" ? BEARER.exec(header.trim()) : null;
  if (bearer) return bearer[1];
  const query = handshake.query.token;
  return typeof query === "string" && query.length > 0 ? query : null;
}

const GuestAuth = z.object({ name: DisplayName.optional() }).passthrough();

export interface AuthMiddlewareOptions {
  /** Accept connections without any credential as guests (`guest:<random>` ids). A bad credential is refused either way. */
  allowGuests: boolean;
  /** Asked for the user when the handshake carries no JWT (session cookies): AUTH_WEBHOOK_URL. */
  webhook?: AuthWebhook | null;
}

/** The CONNECT_ERROR message when nothing identifies the client and guests are not allowed. */
export function missingCredentialMessage(webhook: boolean): string {
  return webhook
    ? "no credential: send a JWT in auth.token, the Authorization header or ?token=, or a session cookie handled by AUTH_WEBHOOK_URL"
    : "no credential: send a JWT in auth.token, the Authorization header or ?token= (cookies are not read: AUTH_WEBHOOK_URL is not configured; guests need ALLOW_GUESTS=true)";
}

/**
 * A namespace middleware: sets `socket.data.user` ({ id, name, ...chosen claims }) or refuses
 * the CONNECT with `{"message":"unauthorized","data":{"code","message"}}`. In order: a JWT
 * (when JWT verification is configured, or no webhook is); else the auth webhook, when one is
 * configured and the handshake carries anything it could read; else a guest, when allowed.
 */
export function authMiddleware(authenticator: Authenticator, options: AuthMiddlewareOptions): Middleware {
  const { webhook = null } = options;
  return async (socket, next) => {
    const token = tokenOf(socket.handshake);
    if (token && (authenticator.configured || !webhook)) {
      const result = await authenticator.verify(token);
      if (!result.ok) return next(unauthorized(result.code, result.message));
      socket.data.user = result.user;
      return next();
    }
    if (webhook) {
      const material = webhook.material(socket.handshake, socket.nsp);
      if (!material.ok) return next(unauthorized(material.code, material.message));
      if (material.hasCredential) {
        const result = await webhook.authenticate(material.request);
        if (!result.ok) return next(unauthorized(result.code, result.message));
        socket.data.user = result.user;
        return next();
      }
    }
    if (!options.allowGuests) return next(unauthorized("token_required", missingCredentialMessage(webhook !== null)));
    const guest = GuestAuth.safeParse(socket.handshake.auth);
    const id = `guest:${crypto.randomUUID()}`;
    socket.data.user = {
      id,
      name: guest.success && guest.data.name ? guest.data.name : `guest-${id.slice(6, 12)}`,
      guest: true,
    } satisfies AuthUser;
    next();
  };
}
