/**
 * The shipped configuration fails closed: started the way `wrangler deploy` runs it (no
 * ENVIRONMENT, real secrets), none of the development conveniences answer, and
 * CORS_ORIGINS="*" is a configuration error naming the variable. Checked over HTTP and with a
 * real socket.io-client only, so it holds wherever those routes live.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectError, connectUser, hs256, TEST_JWT_SECRET } from "../../helpers/default-app";
import { startService, type RunningService } from "../../helpers/service";

const SECRETS = { SID_SECRET: "a-real-sid-secret-for-this-test-0123", JWT_SECRET: TEST_JWT_SECRET };
const ORIGIN = "https://chat.example.com";

describe("deployed without ENVIRONMENT (production by default)", () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startService({ config: "wrangler.toml", environment: null, vars: { ...SECRETS, CORS_ORIGINS: ORIGIN } });
  });
  afterAll(async () => {
    await service?.stop();
  });

  it("serves real users, but not /dev/token, guests or /_edgeio/*", async () => {
    // The service is up and working: a user with a valid token connects.
    const user = await connectUser(service.url, { auth: { token: await hs256({ sub: "ada", name: "Ada" }) } });
    expect(user.session).toMatchObject({ user: { id: "ada" }, guest: false });
    user.socket.close();

    const token = await fetch(`${service.url}/dev/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "mallory" }),
    });
    expect(token.status).toBe(404);
    // No token is minted: the body is the disabled notice, not { token, user }.
    expect(await token.json()).toMatchObject({ error: { code: "dev_token_disabled" } });

    for (const path of ["/_edgeio/hosts", "/_edgeio/hosts?colo=local"]) {
      const response = await fetch(`${service.url}${path}`);
      expect(response.status, path).toBe(404);
      await response.arrayBuffer();
    }

    const guest = await connectError(service.url, { auth: {} });
    expect(guest.message).toMatch(/unauthorized|token/i);
  });

  it("allows only the configured origin", async () => {
    const handshake = (origin: string) => fetch(`${service.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } });
    const allowed = await handshake(ORIGIN);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    await allowed.arrayBuffer();
    const other = await handshake("https://evil.example");
    expect(other.status).toBe(403);
    await other.arrayBuffer();
  });
});

describe('CORS_ORIGINS="*" in production', () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startService({ config: "wrangler.toml", environment: null, vars: { ...SECRETS, CORS_ORIGINS: "*" } });
  });
  afterAll(async () => {
    await service?.stop();
  });

  it("answers invalid_configuration naming CORS_ORIGINS, on every route", async () => {
    for (const path of ["/socket.io/?EIO=4&transport=polling", "/dev/token", "/_edgeio/hosts", "/v1/health"]) {
      const response = await fetch(`${service.url}${path}`, { headers: { origin: "https://evil.example" } });
      expect(response.status, path).toBe(500);
      expect(response.headers.get("access-control-allow-origin"), path).toBeNull();
      const body = (await response.json()) as { error: { code: string; issues: string[] } };
      expect(body.error.code, path).toBe("invalid_configuration");
      expect(body.error.issues, path).toEqual([expect.stringMatching(/^CORS_ORIGINS: "\*" is refused when ENVIRONMENT=production/)]);
    }
  });
});
