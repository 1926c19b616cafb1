import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../durable-objects/socketio/server";
import { Authenticator } from "./auth";
import { parseAppConfig } from "./config";
import { devTokenRoutes } from "./dev-token";

async function issue(env: Record<string, unknown>, name: string) {
  const http = new Hono<{ Bindings: AppEnv }>();
  devTokenRoutes(http);
  const response = await http.request("/dev/token", { method: "POST", body: JSON.stringify({ name }) }, env);
  expect(response.status).toBe(200);
  return (await response.json()) as { token: string; user: { id: string; name: string } };
}

describe("POST /dev/token", () => {
  it("issues tokens the default app accepts, with the id in JWT_USER_CLAIM too when it is not sub", async () => {
    for (const env of [{ ENVIRONMENT: "development" }, { ENVIRONMENT: "development", JWT_USER_CLAIM: "userId" }]) {
      const { token, user } = await issue(env, "Ada");
      expect(user).toEqual({ id: "dev:ada", name: "Ada" });
      const verified = await new Authenticator(parseAppConfig(env).auth).verify(token);
      expect(verified).toMatchObject({ ok: true, user: { id: "dev:ada", name: "Ada" } });
    }
  });
});
