/** CORS allowlist and configuration errors, against the service started with wrangler dev. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../helpers/clients";
import { startService, type RunningService } from "../helpers/service";

const ALLOWED = "https://app.example";

describe("CORS allowlist", () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startService({ vars: { CORS_ORIGINS: ALLOWED } });
  });
  afterAll(() => service?.stop());

  it("answers a preflight from an allowed origin, with credentials", async () => {
    const response = await fetch(`${service.url}/socket.io/?EIO=4&transport=polling`, {
      method: "OPTIONS",
      headers: { Origin: ALLOWED, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(response.headers.get("access-control-allow-credentials")).toBe("true");
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
  });

  it("reflects an allowed origin on the handshake and the session's polling requests, with credentials", async () => {
    const corsOf = (response: Response) =>
      ["access-control-allow-origin", "access-control-allow-credentials", "vary"].map((name) => response.headers.get(name));
    const handshake = await fetch(`${service.url}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: ALLOWED } });
    expect(handshake.status).toBe(200);
    expect(corsOf(handshake)).toEqual([ALLOWED, "true", "Origin"]);
    const open = await handshake.text();
    expect(open.startsWith("0{")).toBe(true);
    const url = `${service.url}/socket.io/?EIO=4&transport=polling&sid=${JSON.parse(open.slice(1)).sid}`;
    const post = await fetch(url, { method: "POST", body: "40", headers: { Origin: ALLOWED, "Content-Type": "text/plain;charset=UTF-8" } });
    expect([post.status, await post.text()]).toEqual([200, "ok"]);
    expect(corsOf(post)).toEqual([ALLOWED, "true", "Origin"]);
    const get = await fetch(url, { headers: { Origin: ALLOWED } });
    expect(get.status).toBe(200);
    expect(await get.text()).toMatch(/^40/);
    expect(corsOf(get)).toEqual([ALLOWED, "true", "Origin"]);
    // Without an Origin (not a browser): no origin to reflect; the rest as before.
    const bare = await fetch(url, { method: "POST", body: "1" });
    expect(corsOf(bare)).toEqual([null, "true", "Origin"]);
  });

  it("refuses other origins with Engine.IO's Forbidden, WebSockets included", async () => {
    const response = await fetch(`${service.url}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: "https://evil.example" } });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ code: 4, message: "Forbidden" });
    const refused = connect(service.url, { transports: ["websocket"], extraHeaders: { Origin: "https://evil.example" } });
    await expect(refused).rejects.toThrow();
    const allowed = await connect(service.url, { transports: ["websocket"], extraHeaders: { Origin: ALLOWED } });
    expect(allowed.connected).toBe(true);
    allowed.close();
  });
});

describe("invalid configuration", () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startService({ vars: { PING_INTERVAL: "soon", HOST_POOL_SIZE: 0 } });
  });
  afterAll(() => service?.stop());

  it("answers 500 naming each bad field instead of starting half-configured", async () => {
    const response = await fetch(`${service.url}/socket.io/?EIO=4&transport=polling`);
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { code: string; issues: string[] } };
    expect(body.error.code).toBe("invalid_configuration");
    expect(body.error.issues.some((issue) => issue.startsWith("PING_INTERVAL"))).toBe(true);
    expect(body.error.issues.some((issue) => issue.startsWith("HOST_POOL_SIZE"))).toBe(true);
  });
});

describe("invalid app configuration", () => {
  let service: RunningService;
  beforeAll(async () => {
    // The default app validates its own variables (validate in defineApp): reported with the core's, in one answer.
    service = await startService({ config: "wrangler.toml", vars: { JOIN_POLICY: "not json", PING_INTERVAL: "soon" } });
  });
  afterAll(() => service?.stop());

  it("answers the same 500 invalid_configuration, naming the app's field and the core's", async () => {
    for (const path of ["/socket.io/?EIO=4&transport=polling", "/dev/token"]) {
      const response = await fetch(`${service.url}${path}`, { method: path === "/dev/token" ? "POST" : "GET" });
      expect(response.status, path).toBe(500);
      const body = (await response.json()) as { error: { code: string; issues: string[] } };
      expect(body.error.code).toBe("invalid_configuration");
      expect(body.error.issues.some((issue) => issue.startsWith("JOIN_POLICY"))).toBe(true);
      expect(body.error.issues.some((issue) => issue.startsWith("PING_INTERVAL"))).toBe(true);
    }
  });
});
