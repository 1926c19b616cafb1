/**
 * JWT authentication of the default app with real socket.io-client: HS256 with a secret,
 * RS256 from a JWKS served by a local HTTP server, and the classic attacks (expired, wrong
 * signature, alg none, HS256 signed with the RSA public key) each refused with a clear code.
 * Guests are not configured (ALLOW_GUESTS unset), in development: a client without a credential —
 * a cookie alone, without AUTH_WEBHOOK_URL — is refused with an error naming what to send.
 */
import { createServer, type Server } from "node:http";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectError, connectUser, TEST_JWT_SECRET } from "../helpers/default-app";
import { freePort, startService, type RunningService } from "../helpers/service";

const ISSUER = "https://issuer.test";
const AUDIENCE = "edgeio-tests";

let service: RunningService;
let jwksServer: Server;
let jwks: JWK[] = [];
let jwksFetches = 0;
let rsa: { privateKey: CryptoKey; publicKey: CryptoKey };

beforeAll(async () => {
  rsa = await generateKeyPair("RS256", { extractable: true });
  jwks = [{ ...(await exportJWK(rsa.publicKey)), kid: "key-1", alg: "RS256", use: "sig" }];
  const port = await freePort();
  jwksServer = createServer((request, response) => {
    if (request.url !== "/.well-known/jwks.json") return void response.writeHead(404).end();
    jwksFetches += 1;
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: jwks }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(port, "127.0.0.1", resolve));
  service = await startService({
    config: "wrangler.toml",
    vars: {
      JWT_SECRET: TEST_JWT_SECRET,
      JWT_ALGORITHMS: "HS256,RS256",
      JWT_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      JWT_JWKS_COOLDOWN_MS: 0,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWT_USER_CLAIMS: "roles",
    },
  });
});
afterAll(async () => {
  await service?.stop();
  await new Promise((resolve) => jwksServer?.close(resolve));
});

const claims = (extra: Record<string, unknown> = {}) => ({ sub: "ada", name: "Ada Lovelace", roles: ["admin"], ...extra });

function signed(
  alg: "HS256" | "RS256",
  key: Uint8Array | CryptoKey,
  payload: Record<string, unknown> = claims(),
  options: { kid?: string; exp?: number | string } = {},
) {
  return new SignJWT(payload)
    .setProtectedHeader({ alg, ...(options.kid ? { kid: options.kid } : {}) })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? "10m")
    .sign(key);
}

const secret = new TextEncoder().encode(TEST_JWT_SECRET);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("accepted tokens", () => {
  it("accepts a valid HS256 token from auth.token and maps its claims to the user", async () => {
    const client = await connectUser(service.url, { auth: { token: await signed("HS256", secret) } });
    expect(client.session).toMatchObject({ user: { id: "ada", name: "Ada Lovelace" }, guest: false });
    client.socket.close();
  });

  it("accepts the token from an Authorization: Bearer header and from the token query parameter", async () => {
    const token = await signed("HS256", secret);
    const byHeader = await connectUser(service.url, { transports: ["polling"], extraHeaders: { authorization: `Bearer ${token}` } });
    expect(byHeader.session.user.id).toBe("ada");
    byHeader.socket.close();
    const byQuery = await connectUser(service.url, { transports: ["websocket"], query: { token } });
    expect(byQuery.session.user.id).toBe("ada");
    byQuery.socket.close();
  });

  it("accepts a valid RS256 token whose key comes from the JWKS URL", async () => {
    const client = await connectUser(service.url, {
      auth: { token: await signed("RS256", rsa.privateKey, claims({ sub: "grace", name: "Grace" }), { kid: "key-1" }) },
    });
    expect(client.session.user).toEqual({ id: "grace", name: "Grace" });
    client.socket.close();
  });

  it("refetches the JWKS when a token names a key id it does not know yet (rotation)", async () => {
    const next = await generateKeyPair("RS256", { extractable: true });
    jwks = [...jwks, { ...(await exportJWK(next.publicKey)), kid: "key-2", alg: "RS256", use: "sig" }];
    const before = jwksFetches;
    const client = await connectUser(service.url, {
      auth: { token: await signed("RS256", next.privateKey, claims({ sub: "rotated" }), { kid: "key-2" }) },
    });
    expect(client.session.user.id).toBe("rotated");
    expect(jwksFetches).toBeGreaterThan(before);
    client.socket.close();
  });
});

describe("refused tokens", () => {
  const refusedWith = async (options: Parameters<typeof connectError>[1]) => {
    const error = await connectError(service.url, options);
    expect(error.message).toBe("unauthorized");
    return error.data.code as string;
  };

  it("refuses a connection without a token when guests are not allowed", async () => {
    expect(await refusedWith({})).toBe("token_required");
  });

  it("refuses a cookie-only client with an error naming the missing credential, not as a guest", async () => {
    for (const transports of [["polling"], ["websocket"]]) {
      const error = await connectError(service.url, { transports, extraHeaders: { cookie: "connect.sid=s%3Asession-1" } });
      expect(error.data).toEqual({
        code: "token_required",
        message: expect.stringMatching(/^no credential: send a JWT in auth\.token, the Authorization header or \?token=.*AUTH_WEBHOOK_URL/),
      });
    }
  });

  it('refuses a token whose user id is in "userId" while JWT_USER_CLAIM is the default "sub"', async () => {
    const { sub: _sub, ...rest } = claims();
    const token = await signed("HS256", secret, { ...rest, userId: "ada" });
    const error = await connectError(service.url, { auth: { token } });
    expect(error.data).toEqual({ code: "invalid_claims", message: 'the token has no usable "sub" claim' });
  });

  it("refuses an expired token", async () => {
    const token = await signed("HS256", secret, claims(), { exp: Math.floor(Date.now() / 1000) - 3600 });
    expect(await refusedWith({ auth: { token } })).toBe("token_expired");
  });

  it("refuses a token with a wrong signature", async () => {
    const token = await signed("HS256", new TextEncoder().encode("another-secret-of-enough-length"));
    expect(await refusedWith({ auth: { token } })).toBe("invalid_token");
  });

  it('refuses an unsigned token (alg "none")', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64({ alg: "none", typ: "JWT" })}.${b64({ ...claims(), iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600 })}.`;
    expect(await refusedWith({ auth: { token } })).toBe("invalid_token");
  });

  it("refuses an HS256 token signed with the RS256 public key as the HMAC secret", async () => {
    const pem = await exportSPKI(rsa.publicKey);
    const jwkJson = JSON.stringify(jwks[0]);
    for (const key of [pem, jwkJson]) {
      const token = await signed("HS256", new TextEncoder().encode(key), claims(), { kid: "key-1" });
      expect(await refusedWith({ auth: { token } })).toBe("invalid_token");
    }
  });

  it("refuses an RS256 token signed by a key the JWKS does not have", async () => {
    const stranger = await generateKeyPair("RS256");
    const token = await signed("RS256", stranger.privateKey, claims(), { kid: "key-1" });
    expect(await refusedWith({ auth: { token } })).toBe("invalid_token");
  });

  it("refuses a token for another issuer or audience", async () => {
    const wrongIssuer = await new SignJWT(claims())
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("https://evil.test")
      .setAudience(AUDIENCE)
      .setExpirationTime("10m")
      .sign(secret);
    expect(await refusedWith({ auth: { token: wrongIssuer } })).toBe("invalid_claims");
    const wrongAudience = await new SignJWT(claims())
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(ISSUER)
      .setAudience("someone-else")
      .setExpirationTime("10m")
      .sign(secret);
    expect(await refusedWith({ auth: { token: wrongAudience } })).toBe("invalid_claims");
  });

  it("refuses a garbage token", async () => {
    expect(await refusedWith({ auth: { token: "not-a-jwt" } })).toBe("invalid_token");
  });
});
