/**
 * Attacks on the default app's JWT authentication, with real socket.io-client against
 * `wrangler dev`: forged algorithms, keys named by the token, bad times and claims, tampering,
 * oversize tokens. Each refused CONNECT must carry the documented code (docs/default-app.md),
 * and a control client on the same service must stay connected and keep getting acks.
 * Then `/dev/token`: off with a real JWT_SECRET, and unable to mint ids or room claims.
 */
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, SignJWT, type CryptoKey, type JWK } from "jose";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Authenticator } from "../../../app/auth";
import { DEV_JWT_SECRET, parseAppConfig, type AuthConfig } from "../../../app/config";
import { ConfigError } from "../../../protocol/config-vars";
import type { ClientOptions } from "../../helpers/clients";
import { ack, connectError, connectUser, TEST_JWT_SECRET, type Client } from "../../helpers/default-app";
import { freePort, startService, type RunningService } from "../../helpers/service";

const ISSUER = "https://issuer.test";
const AUDIENCE = "edgeio-tests";
const TOLERANCE = 30;

let service: RunningService;
let devService: RunningService;
let keyServer: Server;
let keyServerUrl: string;
let jwks: JWK[] = [];
/** Requests for the attacker's key URLs (jku / x5u): the service must never make one. */
const attackerFetches: string[] = [];
let rsa: { privateKey: CryptoKey; publicKey: CryptoKey };
let attacker: { privateKey: CryptoKey; publicKey: CryptoKey };
let control: Client;
const controlDisconnects: string[] = [];

beforeAll(async () => {
  rsa = await generateKeyPair("RS256", { extractable: true });
  attacker = await generateKeyPair("RS256", { extractable: true });
  jwks = [{ ...(await exportJWK(rsa.publicKey)), kid: "key-1", alg: "RS256", use: "sig" }];
  const attackerJwks = [{ ...(await exportJWK(attacker.publicKey)), kid: "attacker-1", alg: "RS256", use: "sig" }];
  const port = await freePort();
  keyServerUrl = `http://127.0.0.1:${port}`;
  keyServer = createServer((request, response) => {
    if (request.url === "/.well-known/jwks.json") {
      return void response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: jwks }));
    }
    attackerFetches.push(request.url ?? "");
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: attackerJwks }));
  });
  await new Promise<void>((resolve) => keyServer.listen(port, "127.0.0.1", resolve));
  service = await startService({
    config: "wrangler.toml",
    vars: {
      JWT_SECRET: TEST_JWT_SECRET,
      JWT_ALGORITHMS: "HS256,RS256",
      JWT_JWKS_URL: `${keyServerUrl}/.well-known/jwks.json`,
      JWT_JWKS_COOLDOWN_MS: 0,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWT_CLOCK_TOLERANCE: TOLERANCE,
      ALLOW_GUESTS: "false",
      RATE_LIMIT_BURST: 1000,
    },
  });
  // The development configuration: no JWT_SECRET, so /dev/token is served.
  devService = await startService({ config: "wrangler.toml" });
  control = await connectUser(service.url, { auth: { token: await hs({ sub: "control" }) } });
  control.socket.on("disconnect", (reason) => controlDisconnects.push(reason));
});
afterAll(async () => {
  control?.socket.close();
  await service?.stop();
  await devService?.stop();
  await new Promise((resolve) => keyServer?.close(resolve));
});

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const _secretBytes = new TextEncoder().encode(TEST_JWT_SECRET);

/** Valid claims for the attack service; `undefined` values are dropped. */
function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const all: Record<string, unknown> = {
    sub: "mallory",
    name: "Mallory",
    iss: ISSUER,
    aud: AUDIENCE,
    iat: now(),
    exp: now() + 600,
    ...extra,
  };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

/** An HMAC-SHA256 compact JWS built by hand, so any header (jwk, crit, b64, …) can be forged. */
function hmacToken(
  payload: Record<string, unknown>,
  options: { header?: Record<string, unknown>; key?: string | Uint8Array } = {},
): string {
  const input = `${b64({ alg: "HS256", typ: "JWT", ...options.header })}.${b64(payload)}`;
  const signature = createHmac("sha256", options.key ?? TEST_JWT_SECRET)
    .update(input)
    .digest("base64url");
  return `${input}.${signature}`;
}

const hs = (extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => hmacToken(claims(extra), { header });

function rs256(key: CryptoKey, header: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims(extra)).setProtectedHeader({ alg: "RS256", ...header }).sign(key);
}

/** Flips one character in the middle of a token part (never a final character's padding bits). */
function flip(part: string): string {
  const i = Math.floor(part.length / 2);
  return `${part.slice(0, i)}${part[i] === "A" ? "B" : "A"}${part.slice(i + 1)}`;
}

/** The control client is still connected and its acked events are still answered. */
async function controlAlive(): Promise<void> {
  expect(control.socket.connected).toBe(true);
  expect(controlDisconnects).toEqual([]);
  expect(await ack(control.socket, "presence:list", "stream:control")).toMatchObject({ ok: true, room: "stream:control" });
}

async function refusedWith(code: string, options: ClientOptions): Promise<void> {
  const error = await connectError(service.url, options);
  expect(error.message).toBe("unauthorized");
  expect(error.data).toMatchObject({ code });
  await controlAlive();
}

type Case = [name: string, code: string, token: () => string | Promise<string>];

const cases: Case[] = [
  ['alg "none" (empty signature)', "invalid_token", () => `${b64({ alg: "none", typ: "JWT" })}.${b64(claims())}.`],
  ['alg "NONE" with an HMAC signature', "invalid_token", () => hmacToken(claims(), { header: { alg: "NONE" } })],
  [
    "HS256 signed with the RSA public key (PEM) as secret",
    "invalid_token",
    async () => hmacToken(claims(), { header: { kid: "key-1" }, key: await exportSPKI(rsa.publicKey) }),
  ],
  [
    "HS256 signed with the RSA public JWK (JSON) as secret",
    "invalid_token",
    () => hmacToken(claims(), { header: { kid: "key-1" }, key: JSON.stringify(jwks[0]) }),
  ],
  [
    "RS256 by the attacker's key, its jwk embedded in the header",
    "invalid_token",
    async () => rs256(attacker.privateKey, { jwk: { ...(await exportJWK(attacker.publicKey)), alg: "RS256" } }),
  ],
  [
    "RS256 by the attacker's key, embedded jwk with the real kid",
    "invalid_token",
    async () => rs256(attacker.privateKey, { kid: "key-1", jwk: { ...(await exportJWK(attacker.publicKey)), kid: "key-1" } }),
  ],
  [
    "HS256 by the attacker's secret, embedded as an oct jwk",
    "invalid_token",
    () => {
      const key = "attacker-secret-0123456789abcdef";
      return hmacToken(claims(), { header: { jwk: { kty: "oct", k: b64(key) } }, key });
    },
  ],
  [
    "RS256 by the attacker's key, jku naming the attacker's key set",
    "invalid_token",
    () => rs256(attacker.privateKey, { kid: "attacker-1", jku: `${keyServerUrl}/attacker/jwks.json` }),
  ],
  [
    "RS256 by the attacker's key, x5u naming the attacker's certificate",
    "invalid_token",
    () => rs256(attacker.privateKey, { kid: "attacker-1", x5u: `${keyServerUrl}/attacker/cert.pem` }),
  ],
  ["an unknown critical header", "invalid_token", () => hs({}, { crit: ["x-edgeio-bypass"], "x-edgeio-bypass": true })],
  ["an unencoded payload (b64: false)", "invalid_token", () => hs({}, { b64: false, crit: ["b64"] })],
  ["expired", "token_expired", () => hs({ iat: now() - 7200, exp: now() - 3600 })],
  ["iat in the future beyond the tolerance", "token_not_yet_valid", () => hs({ iat: now() + 3600, exp: now() + 7200 })],
  ["nbf in the future beyond the tolerance", "token_not_yet_valid", () => hs({ nbf: now() + 3600 })],
  ["a wrong issuer", "invalid_claims", () => hs({ iss: "https://evil.test" })],
  ["no issuer", "invalid_claims", () => hs({ iss: undefined })],
  ["a wrong audience", "invalid_claims", () => hs({ aud: "someone-else" })],
  ["no sub", "invalid_claims", () => hs({ sub: undefined })],
  ["an empty sub", "invalid_claims", () => hs({ sub: "" })],
  ["a numeric sub", "invalid_claims", () => hs({ sub: 42 })],
  ["a sub over 256 characters", "invalid_claims", () => hs({ sub: "a".repeat(257) })],
  ["a sub with control characters", "invalid_claims", () => hs({ sub: "ada\nadmin" })],
  [
    "a tampered payload (sub changed, signature kept)",
    "invalid_token",
    () => {
      const [header, , signature] = hs().split(".");
      return `${header}.${b64(claims({ sub: "admin" }))}.${signature}`;
    },
  ],
  [
    "a tampered signature",
    "invalid_token",
    () => {
      const [header, payload, signature] = hs().split(".");
      return `${header}.${payload}.${flip(signature)}`;
    },
  ],
  ["a validly signed token over 8 KiB", "invalid_token", () => hs({ padding: "x".repeat(9 * 1024) })],
  ["a 900 KB token in auth", "invalid_token", () => `${"a".repeat(900_000)}.b.c`],
  ["garbage", "invalid_token", () => "not-a-jwt"],
];

describe("forged and invalid tokens are refused with the documented code; other clients are unaffected", () => {
  it("the control client is connected with a valid token", async () => {
    expect(control.session.user).toEqual({ id: "control", name: "Mallory" });
    await controlAlive();
  });

  it.each(cases)("%s → %s", async (_name, code, token) => {
    await refusedWith(code, { auth: { token: await token() } });
  });

  it("never fetches the key URLs a token names (jku, x5u)", () => {
    expect(attackerFetches).toEqual([]);
  });

  it("applies the same checks to a token in an Authorization header (8 KiB limit) and the query", async () => {
    await refusedWith("invalid_token", {
      transports: ["polling"],
      extraHeaders: { authorization: `Bearer ${hs({ padding: "x".repeat(9 * 1024) })}` },
    });
    await refusedWith("token_not_yet_valid", { transports: ["websocket"], query: { token: hs({ nbf: now() + 3600 }) } });
  });

  it("accepts iat and nbf slightly ahead, within the clock tolerance, and a token just under 8 KiB", async () => {
    const skewed = await connectUser(service.url, { auth: { token: hs({ sub: "skewed", iat: now() + 10, nbf: now() + 10 }) } });
    expect(skewed.session.user.id).toBe("skewed");
    skewed.socket.close();
    const large = await connectUser(service.url, { auth: { token: hs({ sub: "large", padding: "x".repeat(5 * 1024) }) } });
    expect(large.session.user.id).toBe("large");
    large.socket.close();
  });

  it("closes a session whose CONNECT packet (a 1 MB token) exceeds MAX_PAYLOAD, and nothing else", async () => {
    for (const transports of [["polling"], ["websocket"]]) {
      const socket = io(service.url, { reconnection: false, forceNew: true, transports, auth: { token: "a".repeat(1024 * 1024) } });
      // Over the transport limit the session is closed before the CONNECT is read: no connect, no user.
      const outcome = await new Promise<string>((resolve) => {
        socket.once("connect", () => resolve("connected"));
        socket.once("connect_error", () => resolve("connect_error"));
        socket.once("disconnect", () => resolve("disconnect"));
        socket.io.once("close", () => resolve("closed"));
      });
      socket.close();
      expect(outcome).not.toBe("connected");
      await controlAlive();
    }
  });
});

async function devToken(url: string, body: unknown): Promise<Response> {
  return fetch(`${url}/dev/token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()) as Record<string, unknown>;

describe("/dev/token", () => {
  it("is not served when a real JWT_SECRET is configured (404 dev_token_disabled)", async () => {
    const response = await devToken(service.url, { name: "Ada" });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "dev_token_disabled" } });
  });

  it("issues a dev: user for a name while the development secret is in use", async () => {
    const response = await devToken(devService.url, { name: "Ada Lovelace" });
    expect(response.status).toBe(200);
    const issued = (await response.json()) as { token: string; user: { id: string; name: string } };
    expect(issued.user).toEqual({ id: "dev:ada-lovelace", name: "Ada Lovelace" });
    const client = await connectUser(devService.url, { auth: { token: issued.token } });
    expect(client.session).toMatchObject({ user: issued.user, guest: false });
    client.socket.close();
  });

  it("refuses a body naming an id, rooms or any other claim (400 invalid_request)", async () => {
    for (const body of [{ name: "Ada", id: "admin" }, { name: "Ada", rooms: ["conversation:7"] }, { name: "Ada", roles: ["admin"] }, {}]) {
      const response = await devToken(devService.url, body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: "invalid_request" } });
    }
    expect((await devToken(devService.url, { name: "Ada", expiresIn: 7 * 24 * 3600 })).status).toBe(400);
  });

  it("mints no room claim: a dev user cannot join a claim-only room", async () => {
    const { token, user } = (await (await devToken(devService.url, { name: "guest:victim" })).json()) as {
      token: string;
      user: { id: string };
    };
    expect(user.id).toBe("dev:guest-victim");
    expect(payloadOf(token)).not.toHaveProperty("rooms");
    const client = await connectUser(devService.url, { auth: { token } });
    expect(await ack(client.socket, "room:join", "conversation:7")).toMatchObject({ ok: false, error: "forbidden" });
    client.socket.close();
  });

  it("its tokens are refused by a service with a real JWT_SECRET", async () => {
    const { token } = (await (await devToken(devService.url, { name: "Ada" })).json()) as { token: string };
    const error = await connectError(service.url, { auth: { token } });
    expect(error.data).toMatchObject({ code: "invalid_token" });
  });
});

/** Algorithm confusion against configurations the e2e service does not have, on the Authenticator itself. */
describe("Authenticator algorithm pinning (in Node)", () => {
  const base: AuthConfig = {
    secret: null,
    jwksUrl: null,
    jwksCooldownMs: 0,
    algorithms: [],
    clockTolerance: TOLERANCE,
    userClaim: "sub",
    userClaims: [],
    allowGuests: false,
    webhook: null,
  };
  const rsOnly = () => new Authenticator({ ...base, jwksUrl: `${keyServerUrl}/.well-known/jwks.json`, algorithms: ["RS256"] });
  const codeOf = async (authenticator: Authenticator, token: string) => {
    const result = await authenticator.verify(token);
    return result.ok ? `ok:${result.user.id}` : result.code;
  };

  it("with only RS256 configured, refuses HS256 signed with the public key and other algorithms of the same key", async () => {
    const authenticator = rsOnly();
    expect(await codeOf(authenticator, await rs256(rsa.privateKey, { kid: "key-1" }))).toBe("ok:mallory");
    expect(await codeOf(authenticator, hmacToken(claims(), { header: { kid: "key-1" }, key: await exportSPKI(rsa.publicKey) }))).toBe(
      "invalid_token",
    );
    const samePssKey = await importPKCS8(await exportPKCS8(rsa.privateKey), "PS256");
    const ps256 = await new SignJWT(claims()).setProtectedHeader({ alg: "PS256", kid: "key-1" }).sign(samePssKey);
    expect(await codeOf(authenticator, ps256)).toBe("invalid_token");
    const ec = await generateKeyPair("ES256");
    const es256 = await new SignJWT(claims()).setProtectedHeader({ alg: "ES256", jwk: await exportJWK(ec.publicKey) }).sign(ec.privateKey);
    expect(await codeOf(authenticator, es256)).toBe("invalid_token");
  });

  it("with only HS256 configured, refuses RS256 tokens even from the real key", async () => {
    const authenticator = new Authenticator({ ...base, secret: TEST_JWT_SECRET, algorithms: ["HS256"] });
    expect(await codeOf(authenticator, hs())).toBe("ok:mallory");
    expect(await codeOf(authenticator, await rs256(rsa.privateKey, { kid: "key-1" }))).toBe("invalid_token");
  });

  it("refuses a future iat beyond the tolerance, accepts one within it", async () => {
    const authenticator = new Authenticator({ ...base, secret: TEST_JWT_SECRET, algorithms: ["HS256"] });
    expect(await codeOf(authenticator, hs({ iat: now() + TOLERANCE + 60 }))).toBe("token_not_yet_valid");
    expect(await codeOf(authenticator, hs({ iat: now() + TOLERANCE - 10 }))).toBe("ok:mallory");
  });

  it("production refuses the development JWT secret", () => {
    expect(() => parseAppConfig({ ENVIRONMENT: "production", JWT_SECRET: DEV_JWT_SECRET })).toThrow(ConfigError);
    expect(parseAppConfig({ ENVIRONMENT: "production", JWT_SECRET: TEST_JWT_SECRET }).auth.secret).toBe(TEST_JWT_SECRET);
  });
});
