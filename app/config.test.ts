import { describe, expect, it } from "vitest";
import { issuesOf as expectIssues } from "../test/helpers/config-issues";
import { DEFAULT_JOIN_POLICY, DEV_JWT_SECRET, parseAppConfig } from "./config";

const JWT_SECRET = "a-production-jwt-secret-0123";
const JWKS = "https://idp.example/.well-known/jwks.json";

const issuesOf = (raw: Record<string, unknown>) => expectIssues(() => parseAppConfig(raw));

describe("parseAppConfig", () => {
  it("has development defaults: the dev JWT secret with HS256, no guests, the default policy", () => {
    const config = parseAppConfig({ ENVIRONMENT: "development" });
    expect(config.auth).toMatchObject({
      secret: DEV_JWT_SECRET,
      algorithms: ["HS256"],
      // Guests only when ALLOW_GUESTS says so, in development too.
      allowGuests: false,
      userClaim: "sub",
      webhook: null,
      clockTolerance: 30,
      jwksUrl: null,
    });
    expect(config.auth.userClaims).toEqual(["roles", "rooms"]);
    expect(config.joinPolicy).toEqual(Object.entries(DEFAULT_JOIN_POLICY).map(([pattern, rule]) => ({ pattern, rule })));
    expect(config.joinClaim).toBe("rooms");
    expect(config.joinWebhook).toBeNull();
    expect(config.relayEvents).toEqual(["typing:start", "typing:stop", "message:new"]);
    expect(config.rateLimit).toEqual({ burst: 30, perSecond: 10 });
    expect(config.presence.graceMs).toBe(5_000);
  });

  it("is production when ENVIRONMENT is unset: no dev secret, no guests, no algorithm", () => {
    const config = parseAppConfig({});
    expect(config.environment).toBe("production");
    expect(config.auth).toMatchObject({ secret: null, algorithms: [], allowGuests: false });
  });

  it("picks algorithms from what is configured, or pins the listed ones", () => {
    expect(parseAppConfig({ JWT_SECRET }).auth.algorithms).toEqual(["HS256"]);
    expect(parseAppConfig({ JWT_JWKS_URL: JWKS }).auth.algorithms).toEqual(["RS256", "ES256"]);
    expect(parseAppConfig({ JWT_SECRET, JWT_JWKS_URL: JWKS }).auth.algorithms).toEqual(["HS256", "RS256", "ES256"]);
    expect(parseAppConfig({ JWT_JWKS_URL: JWKS, JWT_ALGORITHMS: "EdDSA, PS256" }).auth.algorithms).toEqual(["EdDSA", "PS256"]);
  });

  it("reads flags, lists, numbers and the JOIN_CLAIM into the user claims", () => {
    const config = parseAppConfig({
      ENVIRONMENT: "production",
      JWT_SECRET,
      ALLOW_GUESTS: "1",
      JWT_USER_CLAIMS: "roles, tenant",
      JOIN_CLAIM: "grants",
      RELAY_EVENTS: "",
      RATE_LIMIT_BURST: "5",
      RATE_LIMIT_PER_SECOND: "0.5",
      JOIN_POLICY: '{"a:*":"open","b:*":"webhook"}',
      JOIN_WEBHOOK_URL: "https://hooks.example/join",
    });
    expect(config.auth.allowGuests).toBe(true);
    expect(config.auth.userClaims).toEqual(["roles", "tenant", "grants"]);
    expect(config.relayEvents).toEqual([]);
    expect(config.rateLimit).toEqual({ burst: 5, perSecond: 0.5 });
    expect(config.joinPolicy).toEqual([
      { pattern: "a:*", rule: "open" },
      { pattern: "b:*", rule: "webhook" },
    ]);
    expect(config.joinWebhook).toEqual({ url: "https://hooks.example/join", secret: null, timeoutMs: 3_000 });
    expect(parseAppConfig({ ENVIRONMENT: "development", ALLOW_GUESTS: false }).auth.allowGuests).toBe(false);
  });

  it("refuses the dev JWT secret in production and algorithms without their key", () => {
    expect(issuesOf({ JWT_SECRET: DEV_JWT_SECRET })).toEqual([expect.stringMatching(/^JWT_SECRET: /)]);
    expect(issuesOf({ JWT_ALGORITHMS: "HS256" })).toEqual(["JWT_ALGORITHMS: HS256 needs JWT_SECRET"]);
    expect(issuesOf({ JWT_SECRET, JWT_ALGORITHMS: "RS256" })).toEqual(["JWT_ALGORITHMS: RS256 needs JWT_JWKS_URL"]);
    // Outside production the dev secret stands in for HS*.
    expect(parseAppConfig({ ENVIRONMENT: "development", JWT_ALGORITHMS: "HS256" }).auth.algorithms).toEqual(["HS256"]);
  });

  it("refuses a webhook rule without JOIN_WEBHOOK_URL, and a malformed policy", () => {
    expect(issuesOf({ ENVIRONMENT: "test", JOIN_POLICY: { "x:*": "webhook" } })).toEqual([
      'JOIN_POLICY: a "webhook" rule needs JOIN_WEBHOOK_URL',
    ]);
    expect(issuesOf({ ENVIRONMENT: "test", JOIN_POLICY: "{not json" })).toEqual([expect.stringMatching(/^JOIN_POLICY: must be JSON/)]);
    expect(issuesOf({ ENVIRONMENT: "test", JOIN_POLICY: { "x:*": "maybe" } })).toEqual([expect.stringMatching(/^JOIN_POLICY\.x:\*: /)]);
  });

  it("names each invalid field", () => {
    const issues = issuesOf({
      ENVIRONMENT: "test",
      JWT_SECRET: "short",
      JWT_JWKS_URL: "ftp://idp.example/keys",
      JWT_ALGORITHMS: "none",
      ALLOW_GUESTS: "yes",
      JOIN_WEBHOOK_SECRET: "short",
      RATE_LIMIT_BURST: 0,
      RATE_LIMIT_PER_SECOND: -1,
      JWT_USER_CLAIM: "user id",
      AUTH_WEBHOOK_URL: "ftp://auth.example",
      AUTH_WEBHOOK_HEADERS: "x-ok, bad header",
      AUTH_WEBHOOK_TIMEOUT_MS: 60_000,
      AUTH_WEBHOOK_CACHE_TTL_MS: 3_600_000,
      AUTH_WEBHOOK_CACHE_SIZE: -1,
    });
    const fields = issues.map((issue) => issue.split(/[.:]/)[0]);
    for (const field of [
      "JWT_SECRET",
      "JWT_JWKS_URL",
      "JWT_ALGORITHMS",
      "ALLOW_GUESTS",
      "JOIN_WEBHOOK_SECRET",
      "RATE_LIMIT_BURST",
      "RATE_LIMIT_PER_SECOND",
      "JWT_USER_CLAIM",
      "AUTH_WEBHOOK_URL",
      "AUTH_WEBHOOK_HEADERS",
      "AUTH_WEBHOOK_TIMEOUT_MS",
      "AUTH_WEBHOOK_CACHE_TTL_MS",
      "AUTH_WEBHOOK_CACHE_SIZE",
    ]) {
      expect(fields).toContain(field);
    }
  });
});

describe("auth for existing backends", () => {
  const WEBHOOK_SECRET = "a-webhook-secret-0123456789";

  it("reads the user-id claim and the auth webhook with its bounds", () => {
    const config = parseAppConfig({
      ENVIRONMENT: "test",
      JWT_USER_CLAIM: "https://example.com/uid",
      AUTH_WEBHOOK_URL: "https://app.example/edgeio/auth",
      AUTH_WEBHOOK_HEADERS: "X-Tenant, x-csrf-token",
      AUTH_WEBHOOK_CACHE_TTL_MS: "0",
      WEBHOOK_SECRET,
    });
    expect(config.auth.userClaim).toBe("https://example.com/uid");
    expect(config.auth.webhook).toEqual({
      url: "https://app.example/edgeio/auth",
      secret: WEBHOOK_SECRET,
      headers: ["x-tenant", "x-csrf-token"],
      timeoutMs: 3_000,
      cacheTtlMs: 0,
      cacheSize: 1_000,
    });
  });

  it("needs the webhook signing secret for the auth webhook, and signs the join webhook with it", () => {
    expect(issuesOf({ ENVIRONMENT: "test", AUTH_WEBHOOK_URL: "https://app.example/auth" })).toEqual([
      expect.stringMatching(/^WEBHOOK_SECRET: must be at least 16 characters when AUTH_WEBHOOK_URL is set/),
    ]);
    const hooked = { ENVIRONMENT: "test", JOIN_POLICY: { "x:*": "webhook" }, JOIN_WEBHOOK_URL: "https://app.example/join" };
    expect(parseAppConfig({ ...hooked, WEBHOOK_SECRET }).joinWebhook?.secret).toBe(WEBHOOK_SECRET);
    expect(parseAppConfig({ ...hooked, WEBHOOK_SECRET, JOIN_WEBHOOK_SECRET: "join-only-secret-0123" }).joinWebhook?.secret).toBe(
      "join-only-secret-0123",
    );
  });

  it("refuses more than 16 forwarded headers and claim names with spaces", () => {
    const many = Array.from({ length: 17 }, (_, i) => `x-h${i}`).join(",");
    expect(issuesOf({ ENVIRONMENT: "test", AUTH_WEBHOOK_HEADERS: many })).toEqual([expect.stringMatching(/^AUTH_WEBHOOK_HEADERS: /)]);
    expect(issuesOf({ ENVIRONMENT: "test", JWT_USER_CLAIM: "user id" })).toEqual([
      "JWT_USER_CLAIM: a claim name is printable ASCII without spaces",
    ]);
  });
});
