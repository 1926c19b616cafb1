import { describe, expect, it } from "vitest";
import { issuesOf as expectIssues } from "../helpers/config-issues";
import { parseAppConfig } from "../../app/config";
import { DEV_SID_SECRET, parseConfig } from "../../durable-objects/config";

const issuesOf = (raw: Record<string, unknown>) => expectIssues(() => parseConfig(raw));

describe("configuration", () => {
  it("has Socket.IO's defaults", () => {
    expect(parseConfig({ ENVIRONMENT: "development" })).toMatchObject({
      path: "/socket.io/",
      pingInterval: 25_000,
      pingTimeout: 20_000,
      maxPayload: 1_000_000,
      connectTimeout: 45_000,
      corsOrigins: ["*"],
      hostPoolSize: 4,
      transports: ["polling", "websocket"],
    });
  });

  it("reads wrangler vars given as strings or numbers", () => {
    const config = parseConfig({
      ENVIRONMENT: "development",
      PING_INTERVAL: "1000",
      PING_TIMEOUT: 500,
      CORS_ORIGINS: "https://a.example, https://b.example",
      TRANSPORTS: "websocket",
      EDGEIO_PATH: "/rt",
    });
    expect(config).toMatchObject({
      pingInterval: 1000,
      pingTimeout: 500,
      corsOrigins: ["https://a.example", "https://b.example"],
      transports: ["websocket"],
      path: "/rt/",
    });
  });

  it("names every invalid field", () => {
    const issues = issuesOf({
      PING_INTERVAL: "soon",
      MAX_PAYLOAD: -1,
      HOST_POOL_SIZE: 0,
      TRANSPORTS: "carrier-pigeon",
      EDGEIO_PATH: "no-slash",
    });
    for (const field of ["PING_INTERVAL", "MAX_PAYLOAD", "HOST_POOL_SIZE", "TRANSPORTS", "EDGEIO_PATH"]) {
      expect(issues.some((issue) => issue.startsWith(field))).toBe(true);
    }
  });

  it("refuses the development sid secret in production, and short secrets anywhere", () => {
    const origins = { CORS_ORIGINS: "https://chat.example" };
    expect(issuesOf({ ENVIRONMENT: "production", ...origins })).toEqual([
      expect.stringMatching(/^SID_SECRET: .*refused when ENVIRONMENT=production/),
    ]);
    expect(issuesOf({ ENVIRONMENT: "development", SID_SECRET: "short" })).toEqual([
      expect.stringMatching(/^SID_SECRET: must be at least 16/),
    ]);
    expect(parseConfig({ ENVIRONMENT: "production", SID_SECRET: "a-real-secret-of-enough-length", ...origins }).sidSecret).not.toBe(
      DEV_SID_SECRET,
    );
  });

  it("runs as production when ENVIRONMENT is unset: the dev secret and a missing CORS_ORIGINS are refused", () => {
    const issues = issuesOf({});
    expect(issues).toEqual([
      expect.stringMatching(/^SID_SECRET: .*refused when ENVIRONMENT=production/),
      expect.stringMatching(/^CORS_ORIGINS: required/),
    ]);
    const deployed = parseConfig({ SID_SECRET: "a-real-secret-of-enough-length", CORS_ORIGINS: "https://chat.example" });
    expect(deployed).toMatchObject({ environment: "production", corsOrigins: ["https://chat.example"] });
    // "" means no browser origin at all (native and server clients send no Origin).
    expect(parseConfig({ SID_SECRET: "a-real-secret-of-enough-length", CORS_ORIGINS: "" }).corsOrigins).toEqual([]);
  });

  it('refuses CORS_ORIGINS="*" in production (origins are reflected with credentials), allows it in development', () => {
    for (const CORS_ORIGINS of ["*", "https://a.example,*", ["*"]]) {
      expect(issuesOf({ ENVIRONMENT: "production", SID_SECRET: "a-real-secret-of-enough-length", CORS_ORIGINS })).toEqual([
        expect.stringMatching(/^CORS_ORIGINS: "\*" is refused when ENVIRONMENT=production/),
      ]);
    }
    expect(parseConfig({ ENVIRONMENT: "development", CORS_ORIGINS: "*" }).corsOrigins).toEqual(["*"]);
    expect(parseConfig({ ENVIRONMENT: "development" }).corsOrigins).toEqual(["*"]);
  });

  it("reads ENVIRONMENT the same way in the app configuration (unset: production, no guests, no dev JWT secret)", () => {
    const app = parseAppConfig({});
    expect(app.environment).toBe("production");
    expect(app.auth.allowGuests).toBe(false);
    expect(app.auth.secret).toBeNull();
    // Guests are opt-in everywhere (ALLOW_GUESTS), development included.
    expect(parseAppConfig({ ENVIRONMENT: "development" }).auth.allowGuests).toBe(false);
    expect(parseAppConfig({ ENVIRONMENT: "development", ALLOW_GUESTS: "true" }).auth.allowGuests).toBe(true);
  });
});
