import { describe, expect, it } from "vitest";
import { issuesOf as expectIssues } from "../test/helpers/config-issues";
import { ConfigError } from "../protocol/config-vars";
import { configFrom, DEV_SID_SECRET, parseConfig } from "./config";

const SECRET = "a-production-secret-of-some-length";
const production = { SID_SECRET: SECRET, CORS_ORIGINS: "https://app.example" };

const issuesOf = (raw: Record<string, unknown>) => expectIssues(() => parseConfig(raw));

describe("parseConfig", () => {
  it("has Socket.IO's defaults outside production", () => {
    expect(parseConfig({ ENVIRONMENT: "development" })).toEqual({
      environment: "development",
      path: "/socket.io/",
      pingInterval: 25_000,
      pingTimeout: 20_000,
      pongAutoResponse: true,
      maxPayload: 1_000_000,
      connectTimeout: 45_000,
      corsOrigins: ["*"],
      hostPoolSize: 4,
      limits: {
        namespacesPerSession: 16,
        packetRateBurst: 1200,
        packetRatePerSecond: 100,
        packetsPerPost: 2000,
        pendingAcks: 1000,
        queuedBytes: 4 * 1024 * 1024,
        queuedFrames: 5000,
        roomsPerSocket: 256,
      },
      transports: ["polling", "websocket"],
      allowEio3: false,
      sidSecret: DEV_SID_SECRET,
    });
  });

  it("reads ALLOW_EIO3 as a boolean and names it when invalid", () => {
    expect(parseConfig({ ENVIRONMENT: "test", ALLOW_EIO3: "true" }).allowEio3).toBe(true);
    expect(parseConfig({ ENVIRONMENT: "test", ALLOW_EIO3: true }).allowEio3).toBe(true);
    expect(parseConfig({ ENVIRONMENT: "test", ALLOW_EIO3: "0" }).allowEio3).toBe(false);
    expect(issuesOf({ ENVIRONMENT: "test", ALLOW_EIO3: "yes" })).toHaveLength(1);
    expect(issuesOf({ ENVIRONMENT: "test", ALLOW_EIO3: "yes" })[0]).toMatch(/^ALLOW_EIO3/);
  });

  it("reads vars given as strings, numbers or arrays, and ends the path with /", () => {
    const config = parseConfig({
      ENVIRONMENT: "test",
      EDGEIO_PATH: "/rt",
      PING_INTERVAL: "1000",
      MAX_PAYLOAD: 2048,
      HOST_POOL_SIZE: "16",
      TRANSPORTS: " websocket ",
      CORS_ORIGINS: ["https://a.example ", " https://b.example"],
    });
    expect(config).toMatchObject({
      path: "/rt/",
      pingInterval: 1000,
      maxPayload: 2048,
      hostPoolSize: 16,
      transports: ["websocket"],
      corsOrigins: ["https://a.example", "https://b.example"],
    });
  });

  it("names each invalid field in its error", () => {
    const issues = issuesOf({
      ENVIRONMENT: "staging",
      EDGEIO_PATH: "rt",
      PING_TIMEOUT: "0",
      CONNECT_TIMEOUT: "later",
      HOST_POOL_SIZE: 1025,
      TRANSPORTS: "carrier-pigeon",
      SID_SECRET: "short",
    });
    for (const field of ["ENVIRONMENT", "EDGEIO_PATH", "PING_TIMEOUT", "CONNECT_TIMEOUT", "HOST_POOL_SIZE", "TRANSPORTS", "SID_SECRET"]) {
      expect(issues.filter((issue) => issue.startsWith(`${field}`))).toHaveLength(1);
    }
  });

  it("refuses heartbeats that make no sense, naming the field", () => {
    const dev = { ENVIRONMENT: "development" };
    expect(issuesOf({ ...dev, PING_INTERVAL: 50 })).toEqual(["PING_INTERVAL: must be at least 100 ms"]);
    expect(issuesOf({ ...dev, PING_TIMEOUT: "10" })).toEqual(["PING_TIMEOUT: must be at least 100 ms"]);
    expect(issuesOf({ ...dev, PING_INTERVAL: 2_000_000_000, PING_TIMEOUT: 200_000_000 })).toEqual([
      expect.stringMatching(/^PING_TIMEOUT: PING_INTERVAL \+ PING_TIMEOUT must be at most 2147483647 ms/),
    ]);
    // PING_TIMEOUT longer than PING_INTERVAL is a common Socket.IO setting, and valid.
    expect(parseConfig({ ...dev, PING_INTERVAL: 25_000, PING_TIMEOUT: 60_000 })).toMatchObject({
      pingInterval: 25_000,
      pingTimeout: 60_000,
    });
  });

  it("reads PONG_AUTO_RESPONSE (default on)", () => {
    const dev = { ENVIRONMENT: "development" };
    expect(parseConfig({ ...dev, PONG_AUTO_RESPONSE: "false" }).pongAutoResponse).toBe(false);
    expect(parseConfig({ ...dev, PONG_AUTO_RESPONSE: false }).pongAutoResponse).toBe(false);
    expect(parseConfig({ ...dev, PONG_AUTO_RESPONSE: "1" }).pongAutoResponse).toBe(true);
    expect(issuesOf({ ...dev, PONG_AUTO_RESPONSE: "maybe" })).toEqual([expect.stringMatching(/^PONG_AUTO_RESPONSE: /)]);
  });

  it("needs at least one transport", () => {
    expect(issuesOf({ ENVIRONMENT: "development", TRANSPORTS: " , " })).toEqual(["TRANSPORTS: needs at least one transport"]);
  });

  describe("production (also when ENVIRONMENT is unset)", () => {
    it("accepts a real secret and listed origins", () => {
      expect(parseConfig(production)).toMatchObject({ environment: "production", sidSecret: SECRET, corsOrigins: ["https://app.example"] });
      expect(parseConfig({ ...production, CORS_ORIGINS: "" }).corsOrigins).toEqual([]);
    });

    it("refuses the development SID_SECRET, set or defaulted", () => {
      for (const raw of [{ CORS_ORIGINS: "" }, { ...production, SID_SECRET: DEV_SID_SECRET }, { ...production, SID_SECRET: undefined }]) {
        const issues = issuesOf(raw);
        expect(issues).toHaveLength(1);
        expect(issues[0]).toMatch(/^SID_SECRET: .*ENVIRONMENT=production/);
      }
      expect(parseConfig({ ENVIRONMENT: "development", SID_SECRET: DEV_SID_SECRET }).sidSecret).toBe(DEV_SID_SECRET);
    });

    it("requires CORS_ORIGINS and refuses '*'", () => {
      expect(issuesOf({ SID_SECRET: SECRET })).toEqual([expect.stringMatching(/^CORS_ORIGINS: required when ENVIRONMENT=production/)]);
      expect(issuesOf({ SID_SECRET: SECRET, CORS_ORIGINS: "https://a.example, *" })).toEqual([
        expect.stringMatching(/^CORS_ORIGINS: "\*" is refused/),
      ]);
      expect(parseConfig({ ENVIRONMENT: "development", CORS_ORIGINS: "*" }).corsOrigins).toEqual(["*"]);
    });
  });
});

describe("configFrom", () => {
  it("parses once per env object and throws for a bad one", () => {
    const env = { ENVIRONMENT: "development" };
    expect(configFrom(env)).toBe(configFrom(env));
    expect(() => configFrom({ ENVIRONMENT: "development", PING_INTERVAL: -1 })).toThrow(ConfigError);
  });
});
