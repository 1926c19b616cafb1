/**
 * Development-only token endpoint of the default app: `POST /dev/token {"name":"ada"}` →
 * `{ token, user }`, an HS256 JWT signed with the built-in development secret, so a browser
 * demo can sign in without an identity provider.
 *
 * Served only while that development secret is in use: with ENVIRONMENT=production or a real
 * JWT_SECRET it answers 404 `dev_token_disabled`, so it can never mint tokens a deployment
 * trusts. The user id is always `dev:<name>`: the body cannot choose an id or a JOIN_CLAIM
 * (`rooms`) claim — with the "claim" join rule that would hand out any room.
 */
import { SignJWT } from "jose";
import { z } from "zod";
import type { AppHttp } from "../durable-objects/socketio/server";
import { appConfigFrom, DEV_JWT_SECRET } from "./config";
import { issueList } from "../protocol/config-vars";
import { errorBody } from "../protocol/http-errors";

/** Strict: `id`, `rooms` or any other claim in the body is a 400, not silently ignored. */
const TokenRequest = z.strictObject({
  name: z.string().trim().min(1).max(100),
  /** Lifetime in seconds (default and maximum one day). */
  expiresIn: z
    .number()
    .int()
    .positive()
    .max(24 * 3600)
    .optional(),
});

/** A stable id derived from the name, so two tabs of "Ada" are the same user. */
export function devUserId(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return `dev:${slug || "user"}`;
}

export function devTokenRoutes(http: AppHttp): void {
  http.post("/dev/token", async (c) => {
    const config = appConfigFrom(c.env);
    if (config.environment === "production" || config.auth.secret !== DEV_JWT_SECRET) {
      return c.json(errorBody("dev_token_disabled", "development tokens are off (production, or a JWT_SECRET is configured)"), 404);
    }
    if (!config.auth.algorithms.includes("HS256")) {
      return c.json(errorBody("not_configured", "HS256 tokens are not enabled (JWT_ALGORITHMS)"), 501);
    }
    const body = TokenRequest.safeParse(await c.req.json().catch(() => null));
    if (!body.success)
      return c.json(errorBody("invalid_request", 'the body must be {"name"} with an optional expiresIn', issueList(body.error)), 400);
    const { name, expiresIn } = body.data;
    const id = devUserId(name);
    // The id also goes in JWT_USER_CLAIM when that is not `sub`, so the demo works with it set.
    const claims = config.auth.userClaim === "sub" ? { name } : { name, [config.auth.userClaim]: id };
    let jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(id)
      .setIssuedAt()
      .setExpirationTime(`${expiresIn ?? 24 * 3600}s`);
    if (config.auth.issuer) jwt = jwt.setIssuer(config.auth.issuer);
    if (config.auth.audience) jwt = jwt.setAudience(config.auth.audience);
    const token = await jwt.sign(new TextEncoder().encode(DEV_JWT_SECRET));
    return c.json({ token, user: { id, name } });
  });
}
