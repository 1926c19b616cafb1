import { afterEach, describe, expect, it, vi } from "vitest";
import { verifyWebhookSignature } from "../emitter/src/webhook";
import type { AuthUser } from "./auth";
import { parseAppConfig } from "./config";
import { createJoinPolicy, RoomName } from "./join-policy";

const alice: AuthUser = { id: "alice", name: "Alice" };

function policyOf(vars: Record<string, unknown>) {
  return createJoinPolicy(parseAppConfig({ ENVIRONMENT: "test", ...vars }));
}

const allowed = { ok: true };
const refused = (message: RegExp) => ({ ok: false, error: "forbidden", message: expect.stringMatching(message) });

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("RoomName", () => {
  it("accepts letters, digits and : _ - . @ up to 128 characters", () => {
    for (const name of ["lobby", "conversation:42", "a_b-c.d@e", "x".repeat(128)]) expect(RoomName.safeParse(name).success).toBe(true);
  });

  it("refuses empty, long and other characters", () => {
    for (const name of ["", "x".repeat(129), "has space", "slash/room", "ümlaut", "a*"])
      expect(RoomName.safeParse(name).success).toBe(false);
  });
});

describe("join policy patterns", () => {
  it("default: conversations by claim, anything else open", async () => {
    const mayJoin = policyOf({});
    expect(await mayJoin("/", "lobby", alice)).toEqual(allowed);
    expect(await mayJoin("/", "conversation:1", alice)).toEqual(refused(/"rooms" claim does not grant/));
    expect(await mayJoin("/", "conversation:1", { ...alice, rooms: ["conversation:1"] })).toEqual(allowed);
  });

  it("first matching pattern wins; a room matching none is closed", async () => {
    const mayJoin = policyOf({ JOIN_POLICY: { "stream:vip": "closed", "stream:*": "open" } });
    expect(await mayJoin("/", "stream:news", alice)).toEqual(allowed);
    expect(await mayJoin("/", "stream:vip", alice)).toEqual(refused(/closed/));
    expect(await mayJoin("/", "lobby", alice)).toEqual(refused(/closed/));
  });

  it("reads the policy from a JSON string", async () => {
    const mayJoin = policyOf({ JOIN_POLICY: '{"lobby":"open"}' });
    expect(await mayJoin("/", "lobby", alice)).toEqual(allowed);
    expect(await mayJoin("/", "lobby2", alice)).toEqual(refused(/closed/));
  });

  it("claim: entries may be patterns; non-strings and non-arrays grant nothing", async () => {
    const mayJoin = policyOf({ JOIN_POLICY: { "team:*": "claim" }, JOIN_CLAIM: "grants" });
    expect(await mayJoin("/", "team:red", { ...alice, grants: ["team:r*"] })).toEqual(allowed);
    expect(await mayJoin("/", "team:blue", { ...alice, grants: ["team:r*"] })).toEqual(refused(/"grants" claim/));
    expect(await mayJoin("/", "team:red", { ...alice, grants: "team:red" })).toEqual(refused(/"grants" claim/));
    expect(await mayJoin("/", "team:red", { ...alice, grants: [42, { room: "team:red" }] })).toEqual(refused(/"grants" claim/));
    expect(await mayJoin("/", "team:red", { ...alice, rooms: ["team:red"] })).toEqual(refused(/"grants" claim/));
  });

  it("user rooms: only one's own, whatever the policy says", async () => {
    const mayJoin = policyOf({ JOIN_POLICY: { "*": "open" } });
    expect(await mayJoin("/", "user:alice", alice)).toEqual(allowed);
    expect(await mayJoin("/", "user:bob", alice)).toEqual(refused(/user rooms are reserved/));
    expect(await mayJoin("/", "user:alice", { id: "alice2", name: "x" })).toEqual(refused(/user rooms are reserved/));
  });
});

describe("webhook rule", () => {
  const hookVars = {
    JOIN_POLICY: { "private:*": "webhook" },
    JOIN_WEBHOOK_URL: "https://hooks.example/join",
    JOIN_WEBHOOK_SECRET: "join-webhook-secret-0123",
  };

  function stubFetch(answer: () => Response | Promise<Response>) {
    const calls: Request[] = [];
    vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
      calls.push(new Request(input, init));
      return answer();
    });
    return calls;
  }

  it("posts a signed join request and follows the answer", async () => {
    const calls = stubFetch(() => Response.json({ allow: true, note: "extra fields are fine" }));
    expect(await policyOf(hookVars)("/chat", "private:1", alice)).toEqual(allowed);
    expect(calls).toHaveLength(1);
    const body = await calls[0].text();
    expect(calls[0].url).toBe("https://hooks.example/join");
    expect(JSON.parse(body)).toEqual({
      type: "room.join_request",
      nsp: "/chat",
      room: "private:1",
      user: { id: "alice", name: "Alice", guest: false },
    });
    // The one format of every edgeio webhook: t=…,v1=HMAC-SHA256(t + "." + body).
    const signature = calls[0].headers.get("x-edgeio-signature");
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(await verifyWebhookSignature(hookVars.JOIN_WEBHOOK_SECRET, signature, body)).toBe(true);
    expect(await verifyWebhookSignature("another-secret-0123456789", signature, body)).toBe(false);
  });

  it("signs with WEBHOOK_SECRET when JOIN_WEBHOOK_SECRET is unset", async () => {
    const calls = stubFetch(() => Response.json({ allow: true }));
    const WEBHOOK_SECRET = "shared-webhook-secret-0123";
    await policyOf({ ...hookVars, JOIN_WEBHOOK_SECRET: undefined, WEBHOOK_SECRET })("/", "private:1", alice);
    expect(await verifyWebhookSignature(WEBHOOK_SECRET, calls[0].headers.get("x-edgeio-signature"), await calls[0].text())).toBe(true);
  });

  it("refuses on allow:false, an error status, a malformed answer or a network failure", async () => {
    const mayJoin = policyOf(hookVars);
    stubFetch(() => Response.json({ allow: false }));
    expect(await mayJoin("/", "private:1", alice)).toEqual(refused(/webhook refused/));
    stubFetch(() => new Response("nope", { status: 500 }));
    expect(await mayJoin("/", "private:1", alice)).toEqual(refused(/answered 500/));
    stubFetch(() => new Response("not json"));
    expect(await mayJoin("/", "private:1", alice)).toEqual(refused(/no \{"allow": boolean\} answer/));
    stubFetch(() => Response.json({ allow: "yes" }));
    expect(await mayJoin("/", "private:1", alice)).toEqual(refused(/no \{"allow": boolean\} answer/));
    stubFetch(() => Promise.reject(new TypeError("connection refused")));
    expect(await mayJoin("/", "private:1", alice)).toEqual(refused(/could not be reached/));
  });

  it("sends no signature without a secret", async () => {
    const calls = stubFetch(() => Response.json({ allow: true }));
    await policyOf({ ...hookVars, JOIN_WEBHOOK_SECRET: undefined })("/", "private:1", alice);
    expect(calls[0].headers.has("x-edgeio-signature")).toBe(false);
  });
});
