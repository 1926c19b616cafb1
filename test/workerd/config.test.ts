import { describe, expect, it } from "vitest";
import { DEV_SID_SECRET, parseConfig } from "../../durable-objects/config";
import { ConfigError } from "../../protocol/config-vars";

function issuesOf(raw: Record<string, unknown>): string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("configuration", () => {
  it("has Socket.IO's defaults", () => {
    expect(parseConfig({})).toMatchObject({
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
    const config = parseConfig({ PING_INTERVAL: "1000", PING_TIMEOUT: 500, CORS_ORIGINS: "https://a.example, https://b.example", TRANSPORTS: "websocket", EDGEIO_PATH: "/rt" });
    expect(config).toMatchObject({ pingInterval: 1000, pingTimeout: 500, corsOrigins: ["https://a.example", "https://b.example"], transports: ["websocket"], path: "/rt/" });
  });

  it("names every invalid field", () => {
    const issues = issuesOf({ PING_INTERVAL: "soon", MAX_PAYLOAD: -1, HOST_POOL_SIZE: 0, TRANSPORTS: "carrier-pigeon", EDGEIO_PATH: "no-slash" });
    for (const field of ["PING_INTERVAL", "MAX_PAYLOAD", "HOST_POOL_SIZE", "TRANSPORTS", "EDGEIO_PATH"]) {
      expect(issues.some((issue) => issue.startsWith(field))).toBe(true);
    }
  });

  it("refuses the development sid secret in production, and short secrets anywhere", () => {
    expect(issuesOf({ ENVIRONMENT: "production" })).toEqual([expect.stringMatching(/^SID_SECRET: .*refused when ENVIRONMENT=production/)]);
    expect(issuesOf({ SID_SECRET: "short" })).toEqual([expect.stringMatching(/^SID_SECRET: must be at least 16/)]);
    expect(parseConfig({ ENVIRONMENT: "production", SID_SECRET: "a-real-secret-of-enough-length" }).sidSecret).not.toBe(DEV_SID_SECRET);
  });
});
