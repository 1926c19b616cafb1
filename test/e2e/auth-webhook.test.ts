/**
 * The default app's auth for existing backends, with real socket.io-client in Node against the
 * service (`wrangler dev`): a session-cookie client is accepted through AUTH_WEBHOOK_URL (a
 * small local HTTP server plays the backend) over WebSocket and long-polling, with the user the
 * backend answered; the request carries the one webhook signature; answers are cached for the
 * TTL (a second connect does not ask again) but refusals are not; and with JWT_USER_CLAIM=userId
 * a token carrying `userId` instead of `sub` is accepted.
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyWebhookSignature } from "../../emitter/src/webhook";
import { ack, connectError, connectUser, hs256, TEST_JWT_SECRET, type Client } from "../helpers/default-app";
import { freePort, startService, type RunningService } from "../helpers/service";

const WEBHOOK_SECRET = "auth-webhook-secret-0123456789";
/** The backend's sessions: cookie value → user. */
const SESSIONS: Record<string, { id: string; name: string; plan: string }> = {
  "sess-ada": { id: "ada", name: "Ada Lovelace", plan: "pro" },
  "sess-bob": { id: "bob", name: "Bob", plan: "free" },
  "sess-carol": { id: "carol", name: "Carol", plan: "free" },
};

interface HookRequest {
  raw: string;
  body: { type: string; headers: Record<string, string>; cookies: Record<string, string>; auth: Record<string, unknown> };
  signature: string | undefined;
}

let service: RunningService;
let backend: Server;
const requests: HookRequest[] = [];
const clients: Client[] = [];
const asked = (sid: string) => requests.filter((r) => r.body.cookies.sid === sid).length;

beforeAll(async () => {
  const port = await freePort();
  // A session-cookie backend: looks the `sid` cookie up, answers the user or 401.
  backend = createServer((request, response) => {
    let raw = "";
    request.on("data", (chunk) => (raw += chunk));
    request.on("end", () => {
      const body = JSON.parse(raw) as HookRequest["body"];
      requests.push({ raw, body, signature: request.headers["x-edgeio-signature"] as string | undefined });
      const user = SESSIONS[body.cookies.sid ?? ""];
      if (!user) return void response.writeHead(401).end();
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ user, rooms: ["conversation:7"] }));
    });
  });
  await new Promise<void>((resolve) => backend.listen(port, "127.0.0.1", resolve));
  service = await startService({
    config: "wrangler.toml",
    vars: {
      JWT_SECRET: TEST_JWT_SECRET,
      JWT_USER_CLAIM: "userId",
      AUTH_WEBHOOK_URL: `http://127.0.0.1:${port}/edgeio/auth`,
      WEBHOOK_SECRET,
      AUTH_WEBHOOK_CACHE_TTL_MS: 120_000,
    },
  });
});
afterAll(async () => {
  for (const client of clients) client.socket.close();
  await service?.stop();
  await new Promise((resolve) => backend?.close(resolve));
});

async function withCookie(cookie: string, transports: string[]): Promise<Client> {
  const client = await connectUser(service.url, { transports, extraHeaders: { cookie } });
  clients.push(client);
  return client;
}

describe("auth webhook (session cookies)", () => {
  it("accepts a session-cookie client over WebSocket and polling as the user the backend answered", async () => {
    const ada = await withCookie("theme=dark; sid=sess-ada", ["websocket"]);
    const bob = await withCookie("sid=sess-bob", ["polling"]);
    expect(ada.session).toMatchObject({ user: { id: "ada", name: "Ada Lovelace" }, guest: false });
    expect(bob.session).toMatchObject({ user: { id: "bob", name: "Bob" }, guest: false });
    // `rooms` of the answer is the join claim: conversation:7 is a "claim" room of the default policy.
    expect(await ack(ada.socket, "room:join", "conversation:7")).toMatchObject({ ok: true });
    expect(await ack(ada.socket, "room:join", "conversation:8")).toMatchObject({ ok: false, error: "forbidden" });

    const request = requests.find((r) => r.body.cookies.sid === "sess-ada")!;
    expect(request.body).toMatchObject({ type: "auth.handshake", headers: { cookie: "theme=dark; sid=sess-ada" } });
    expect(request.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(await verifyWebhookSignature(WEBHOOK_SECRET, request.signature, request.raw)).toBe(true);
    expect(await verifyWebhookSignature("not-the-webhook-secret-0123", request.signature, request.raw)).toBe(false);
  });

  it("does not ask again for the same cookie within the TTL", async () => {
    const first = await withCookie("sid=sess-carol", ["websocket"]);
    first.socket.close();
    const second = await withCookie("sid=sess-carol", ["polling"]);
    expect(second.session.user).toEqual({ id: "carol", name: "Carol" });
    expect(asked("sess-carol")).toBe(1);
  });

  it("refuses a cookie the backend rejects, and asks again next time (refusals are not cached)", async () => {
    for (let attempt = 1; attempt <= 2; attempt++) {
      const error = await connectError(service.url, { transports: ["websocket"], extraHeaders: { cookie: "sid=revoked" } });
      expect(error.data).toEqual({ code: "credential_rejected", message: "the auth webhook refused the credentials (401)" });
      expect(asked("revoked")).toBe(attempt);
    }
  });
});

describe("JWT_USER_CLAIM", () => {
  it('accepts a token whose user id is in "userId", without asking the webhook', async () => {
    const before = requests.length;
    const token = await hs256({ userId: "u-42", name: "Grace" });
    const client = await connectUser(service.url, { auth: { token } });
    clients.push(client);
    expect(client.session).toMatchObject({ user: { id: "u-42", name: "Grace" }, guest: false });
    expect(requests.length).toBe(before);
  });
});
