import { afterEach, describe, expect, it, vi } from "vitest";
import type { Handshake } from "../durable-objects/socketio/types";
import { verifyWebhookSignature } from "../emitter/src/webhook";
import { AUTH_WEBHOOK_LIMITS, AuthWebhook, credentialMaterial, parseCookies, userOfAnswer } from "./auth-webhook";
import type { AuthWebhookConfig } from "./config";

const SECRET = "auth-webhook-secret-0123456789";

function handshake(parts: { headers?: Record<string, string>; query?: Record<string, string>; auth?: Record<string, unknown> }): Handshake {
  return {
    headers: parts.headers ?? {},
    query: { EIO: "4", transport: "polling", t: "abc", ...parts.query },
    auth: parts.auth ?? {},
    address: "127.0.0.1",
    time: "",
    issued: 0,
    url: "/socket.io/",
    secure: false,
    xdomain: false,
  };
}

let hooks = 0;
/** A fresh URL per webhook: answers are cached per isolate and configuration. */
function webhook(overrides: Partial<AuthWebhookConfig> = {}) {
  const config = { url: `https://app.example/auth/${++hooks}`, secret: SECRET, headers: ["x-tenant"], timeoutMs: 200, ...overrides };
  return new AuthWebhook({ cacheTtlMs: 30_000, cacheSize: 100, ...config }, "rooms");
}

function stubFetch(answer: (request: Request, signal?: AbortSignal) => Response | Promise<Response>) {
  const calls: Request[] = [];
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push(new Request(input, { ...init, signal: undefined }));
    return answer(new Request(input, { ...init, signal: undefined }), init?.signal ?? undefined);
  });
  return calls;
}

const requestOf = (hook: AuthWebhook, parts: Parameters<typeof handshake>[0]) => {
  const material = hook.material(handshake(parts), "/");
  if (!material.ok) throw new Error(material.message);
  return material.request;
};

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("credentialMaterial", () => {
  it("forwards the cookie, the chosen headers, auth and the query without Engine.IO's parameters", () => {
    const material = credentialMaterial(
      handshake({
        headers: { cookie: "sid=s%3Aabc; theme=dark; sid=second", "x-tenant": "acme", "x-other": "not forwarded", origin: "x" },
        query: { ref: "mail" },
        auth: { deviceId: "laptop" },
      }),
      "/chat",
      ["x-tenant"],
    );
    expect(material).toEqual({
      ok: true,
      hasCredential: true,
      request: {
        type: "auth.handshake",
        nsp: "/chat",
        headers: { cookie: "sid=s%3Aabc; theme=dark; sid=second", "x-tenant": "acme" },
        cookies: { sid: "s%3Aabc", theme: "dark" },
        auth: { deviceId: "laptop" },
        query: { ref: "mail" },
      },
    });
  });

  it("has no credential when only a device id, a name and transport parameters are sent", () => {
    const material = credentialMaterial(handshake({ auth: { deviceId: "d1", name: "Ada" } }), "/", []);
    expect(material).toMatchObject({ ok: true, hasCredential: false });
    expect(credentialMaterial(handshake({ auth: { session: "x" } }), "/", [])).toMatchObject({ hasCredential: true });
  });

  it("refuses material beyond its bounds instead of cutting it", () => {
    const cookie = `big=${"x".repeat(AUTH_WEBHOOK_LIMITS.cookie)}`;
    expect(credentialMaterial(handshake({ headers: { cookie } }), "/", [])).toEqual({
      ok: false,
      code: "credential_too_large",
      message: `the cookie header exceeds the ${AUTH_WEBHOOK_LIMITS.cookie} bytes the auth webhook is sent`,
    });
    const auth = { blob: "x".repeat(AUTH_WEBHOOK_LIMITS.auth) };
    expect(credentialMaterial(handshake({ auth }), "/", [])).toMatchObject({ ok: false, code: "credential_too_large" });
  });

  it("parses cookies leniently", () => {
    expect(parseCookies(" a=1;b = two ;;=x; c; d=e=f")).toEqual({ a: "1", b: "two", d: "e=f" });
  });
});

describe("userOfAnswer", () => {
  it("keeps extra fields, stringifies numeric ids, maps rooms to the join claim and never makes a guest", () => {
    expect(userOfAnswer({ user: { id: 42, name: "Ada", plan: "pro", guest: true }, rooms: ["conversation:9"] }, "rooms")).toEqual({
      id: "42",
      name: "Ada",
      plan: "pro",
      rooms: ["conversation:9"],
    });
    expect(userOfAnswer({ user: { id: "u1" } }, "grants")).toEqual({ id: "u1", name: "u1" });
  });

  it("refuses answers that are not the documented shape", () => {
    for (const answer of [
      null,
      "u1",
      { id: "u1" },
      { user: {} },
      { user: { id: "" } },
      { user: { id: "bad\nid" } },
      { user: { id: 1.5 } },
      { user: { id: "u1", name: "x".repeat(101) } },
      { user: { id: "u1" }, rooms: "conversation:9" },
      { user: { id: "u1" }, rooms: [7] },
    ]) {
      expect(userOfAnswer(answer, "rooms")).toBeNull();
    }
  });
});

describe("AuthWebhook", () => {
  it("posts the material signed in the one webhook format and returns the user", async () => {
    const calls = stubFetch(() => Response.json({ user: { id: "u7", name: "Grace" } }));
    const hook = webhook();
    const result = await hook.authenticate(requestOf(hook, { headers: { cookie: "sid=abc" } }));
    expect(result).toEqual({ ok: true, user: { id: "u7", name: "Grace" } });
    expect(calls).toHaveLength(1);
    const body = await calls[0].text();
    expect(JSON.parse(body)).toMatchObject({ type: "auth.handshake", cookies: { sid: "abc" } });
    expect(calls[0].headers.get("x-edgeio-event-type")).toBe("auth.handshake");
    expect(await verifyWebhookSignature(SECRET, calls[0].headers.get("x-edgeio-signature"), body)).toBe(true);
  });

  it("answers the same credential from its cache within the TTL, and asks for another credential", async () => {
    const calls = stubFetch(async (request) => {
      const { cookies } = (await request.json()) as { cookies: Record<string, string> };
      return Response.json({ user: { id: `user-of-${cookies.sid}` } });
    });
    const hook = webhook();
    const again = webhook({ url: (hook as unknown as { config: AuthWebhookConfig }).config.url });
    expect(await hook.authenticate(requestOf(hook, { headers: { cookie: "sid=a" } }))).toMatchObject({ user: { id: "user-of-a" } });
    // Another instance (another host of the same isolate) shares the cache.
    expect(await again.authenticate(requestOf(again, { headers: { cookie: "sid=a" } }))).toMatchObject({ user: { id: "user-of-a" } });
    expect(calls).toHaveLength(1);
    expect(await hook.authenticate(requestOf(hook, { headers: { cookie: "sid=b" } }))).toMatchObject({ user: { id: "user-of-b" } });
    expect(calls).toHaveLength(2);
    // Each caller gets its own copy: changing one socket's user does not change the cache.
    const first = await hook.authenticate(requestOf(hook, { headers: { cookie: "sid=a" } }));
    if (first.ok) first.user.id = "changed";
    expect(await hook.authenticate(requestOf(hook, { headers: { cookie: "sid=a" } }))).toMatchObject({ user: { id: "user-of-a" } });
    expect(calls).toHaveLength(2);
  });

  it("sends one request for concurrent handshakes with the same credential", async () => {
    const calls = stubFetch(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return Response.json({ user: { id: "u1" } });
    });
    const hook = webhook();
    const results = await Promise.all([1, 2, 3].map(() => hook.authenticate(requestOf(hook, { auth: { session: "s1" } }))));
    expect(results.map((r) => r.ok && r.user.id)).toEqual(["u1", "u1", "u1"]);
    expect(calls).toHaveLength(1);
  });

  it("refuses on 401/403 and fails closed on other statuses, bad answers, timeouts; none of them is cached", async () => {
    const cases: Array<[(request: Request, signal?: AbortSignal) => Response | Promise<Response>, string, RegExp]> = [
      [() => new Response("no", { status: 401 }), "credential_rejected", /refused the credentials \(401\)/],
      [() => new Response("no", { status: 403 }), "credential_rejected", /refused the credentials \(403\)/],
      [() => new Response("oops", { status: 500 }), "auth_unavailable", /answered 500/],
      [() => Response.json({ user: { name: "no id" } }), "auth_unavailable", /answer is not \{"user"/],
      [() => new Response("not json"), "auth_unavailable", /answer is not/],
      [() => Promise.reject(new TypeError("connection refused")), "auth_unavailable", /could not be reached/],
    ];
    // A receiver that never answers: the request is aborted by its timeout, as fetch would be.
    const silent = (_: Request, signal?: AbortSignal) =>
      new Promise<Response>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason)));
    cases.push([silent, "auth_unavailable", /did not answer within 50 ms/]);
    for (const [answer, code, message] of cases) {
      const hook = webhook({ timeoutMs: 50 });
      const calls = stubFetch(answer);
      const request = requestOf(hook, { headers: { cookie: "sid=x" } });
      expect(await hook.authenticate(request)).toEqual({ ok: false, code, message: expect.stringMatching(message) });
      await hook.authenticate(request);
      expect(calls).toHaveLength(2);
    }
  });
});
