import { SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Middleware, MiddlewareError } from "../durable-objects/socketio/server";
import { Authenticator, authMiddleware, missingCredentialMessage } from "./auth";
import { AuthWebhook } from "./auth-webhook";
import { parseAppConfig } from "./config";

const JWT_SECRET = "a-test-jwt-secret-0123456789";
const WEBHOOK_SECRET = "a-webhook-secret-0123456789";

const sign = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime("1h").sign(new TextEncoder().encode(JWT_SECRET));

const authenticator = (vars: Record<string, unknown> = {}) =>
  new Authenticator(parseAppConfig({ ENVIRONMENT: "test", JWT_SECRET, ...vars }).auth);

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("JWT_USER_CLAIM", () => {
  it("takes the user id from the configured claim", async () => {
    const byUserId = authenticator({ JWT_USER_CLAIM: "userId" });
    expect(await byUserId.verify(await sign({ userId: "u-7", name: "Ada" }))).toMatchObject({ ok: true, user: { id: "u-7", name: "Ada" } });
    // Many backends number their users.
    expect(await byUserId.verify(await sign({ userId: 42 }))).toMatchObject({ ok: true, user: { id: "42", name: "42" } });
    expect(await byUserId.verify(await sign({ sub: "u-7" }))).toEqual({
      ok: false,
      code: "invalid_claims",
      message: 'the token has no usable "userId" claim',
    });
  });

  it("reads sub by default and refuses unusable ids", async () => {
    const bySub = authenticator();
    expect(await bySub.verify(await sign({ sub: "u-7" }))).toMatchObject({ ok: true, user: { id: "u-7" } });
    expect(await bySub.verify(await sign({ userId: "u-7" }))).toMatchObject({ ok: false, code: "invalid_claims" });
    // RFC 7519: `sub` is a string; a number there is refused (only a custom claim may be an integer).
    expect(await bySub.verify(await sign({ sub: 42 }))).toMatchObject({ ok: false, code: "invalid_claims" });
    for (const userId of ["", "a\u0000b", "x".repeat(257), 1.5, true, ["u"]]) {
      expect(await authenticator({ JWT_USER_CLAIM: "userId" }).verify(await sign({ userId }))).toMatchObject({ code: "invalid_claims" });
    }
  });
});

/** Runs a middleware on a fake socket: the user it set, or the error it refused with. */
async function run(middleware: Middleware, handshake: { headers?: Record<string, string>; auth?: Record<string, unknown> }) {
  const socket = { nsp: "/", data: {} as { user?: unknown }, handshake: { headers: {}, query: { EIO: "4" }, auth: {}, ...handshake } };
  const error = await new Promise<MiddlewareError | undefined>((resolve) => {
    void (middleware as unknown as (s: unknown, next: (e?: MiddlewareError) => void) => unknown)(socket, resolve);
  });
  return error ? { refused: error.data } : { user: socket.data.user };
}

describe("authMiddleware", () => {
  const config = (vars: Record<string, unknown> = {}) => parseAppConfig({ ENVIRONMENT: "development", ...vars });

  it("refuses a client without a credential, naming what to send, unless guests are allowed", async () => {
    const plain = config();
    const middleware = authMiddleware(new Authenticator(plain.auth), { allowGuests: plain.auth.allowGuests });
    // A cookie alone is no credential without the auth webhook: an error, not a guest.
    expect(await run(middleware, { headers: { cookie: "sid=abc" } })).toEqual({
      refused: { code: "token_required", message: missingCredentialMessage(false) },
    });
    expect(missingCredentialMessage(false)).toMatch(/^no credential: send a JWT in auth\.token.*AUTH_WEBHOOK_URL is not configured/);
    const guests = authMiddleware(new Authenticator(plain.auth), { allowGuests: true });
    expect(await run(guests, { auth: { name: "Visitor" } })).toEqual({
      user: { id: expect.stringMatching(/^guest:/), name: "Visitor", guest: true },
    });
  });

  it("asks the auth webhook for a cookie client, and names the cookie in the error without one", async () => {
    const withHook = config({ AUTH_WEBHOOK_URL: "https://app.example/auth/middleware", WEBHOOK_SECRET });
    const webhook = new AuthWebhook(withHook.auth.webhook!, withHook.joinClaim);
    const middleware = authMiddleware(new Authenticator(withHook.auth), { allowGuests: false, webhook });
    vi.stubGlobal("fetch", async () => Response.json({ user: { id: "u-1", name: "Grace" }, rooms: ["conversation:1"] }));
    expect(await run(middleware, { headers: { cookie: "sid=abc" } })).toEqual({
      user: { id: "u-1", name: "Grace", rooms: ["conversation:1"] },
    });
    expect(await run(middleware, { auth: { deviceId: "d1" } })).toEqual({
      refused: { code: "token_required", message: missingCredentialMessage(true) },
    });
    expect(missingCredentialMessage(true)).toContain("or a session cookie handled by AUTH_WEBHOOK_URL");
    // A JWT still wins when JWT verification is configured (the dev secret here): the webhook is not asked.
    vi.stubGlobal("fetch", async () => {
      throw new Error("the webhook must not be asked");
    });
    const token = await new SignJWT({ sub: "jwt-user" })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(withHook.auth.secret!));
    expect(await run(middleware, { headers: { cookie: "sid=zzz" }, auth: { token } })).toMatchObject({ user: { id: "jwt-user" } });
  });
});
