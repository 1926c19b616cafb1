/**
 * Development-only token endpoint: `POST /dev/token {"name":"ada"}` → `{ token, user }`, an
 * HS256 JWT signed with the configured JWT_SECRET (or the development default), so a browser
 * demo can sign in without an identity provider. Answers 404 when ENVIRONMENT=production.
 */
import { Hono } from "hono";
import { SignJWT } from "jose";
import { z } from "zod";
import { appConfigFrom } from "../app/config";

const TokenRequest = z.object({
  name: z.string().trim().min(1).max(100),
  /** Defaults to a stable id derived from the name, so two tabs of "ada" are the same user. */
  id: z.string().min(1).max(256).optional(),
  rooms: z.array(z.string().min(1).max(128)).max(100).optional(),
  /** Lifetime in seconds (default one day). */
  expiresIn: z.number().int().positive().max(30 * 24 * 3600).optional(),
});

export function devTokenRoutes() {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const routes = new Hono<{ Bindings: any }>();
  routes.post("/dev/token", async (c) => {
    const config = appConfigFrom(c.env);
    if (config.environment === "production") return c.notFound();
    if (!config.auth.secret || !config.auth.algorithms.includes("HS256")) {
      return c.json({ code: "not_configured", message: "HS256 tokens are not enabled (JWT_SECRET / JWT_ALGORITHMS)" }, 501);
    }
    const body = TokenRequest.safeParse(await c.req.json().catch(() => null));
    if (!body.success) return c.json({ code: "invalid_request", issues: body.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) }, 400);
    const { name, rooms, expiresIn } = body.data;
    const id = body.data.id ?? `dev:${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
    let jwt = new SignJWT({ name, ...(rooms ? { [config.joinClaim]: rooms } : {}) })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(id)
      .setIssuedAt()
      .setExpirationTime(`${expiresIn ?? 24 * 3600}s`);
    if (config.auth.issuer) jwt = jwt.setIssuer(config.auth.issuer);
    if (config.auth.audience) jwt = jwt.setAudience(config.auth.audience);
    const token = await jwt.sign(new TextEncoder().encode(config.auth.secret));
    return c.json({ token, user: { id, name } });
  });
  return routes;
}
