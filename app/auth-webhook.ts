/**
 * The authentication webhook (AUTH_WEBHOOK_URL): for a handshake without a JWT, the backend is
 * asked who the client is, from the credential material a browser sends anyway — its cookies,
 * a few chosen headers, the CONNECT `auth` payload and the query. So a session-cookie app
 * works unchanged: its backend looks the session up and answers `{ user: { id, … }, rooms? }`,
 * or 401/403. The request is signed like every edgeio webhook (X-Edgeio-Signature, t=…,v1=…).
 *
 * Fails closed: a timeout, a network error, another status or an answer that is not the
 * documented shape refuses the connection (`auth_unavailable`) and is never cached.
 */
import { z } from "zod";
import { SIGNATURE_HEADER, signatureHeader } from "../durable-objects/webhooks/signature";
import { readWebhookAnswer } from "../durable-objects/webhooks/answer";
import type { Handshake } from "../durable-objects/socketio/types";
import { sha256Hex, TtlCache } from "./auth-cache";
import { DisplayName, UserIdValue, type AuthFailureCode, type AuthUser } from "./auth-user";
import type { AuthWebhookConfig } from "./config";

/** Bounds of what is forwarded (bytes of the header value, or of the JSON). Beyond: `credential_too_large`. */
export const AUTH_WEBHOOK_LIMITS = { cookie: 16 * 1024, header: 8 * 1024, auth: 8 * 1024, query: 4 * 1024 } as const;

/** Engine.IO's own query parameters: transport plumbing, never credentials. */
const ENGINE_PARAMS = new Set(["EIO", "transport", "t", "sid", "j", "b64"]);
/** Auth keys the default app reads itself; alone they are no credential. */
const NON_CREDENTIAL_AUTH = new Set(["deviceId", "name"]);

export const AUTH_EVENT_TYPE = "auth.handshake";

/** The body POSTed to AUTH_WEBHOOK_URL. */
export interface AuthWebhookRequest {
  type: typeof AUTH_EVENT_TYPE;
  nsp: string;
  /** `cookie` (when sent) and the AUTH_WEBHOOK_HEADERS present, lower-case names. */
  headers: Record<string, string>;
  /** The cookie header parsed (first occurrence of a name wins). */
  cookies: Record<string, string>;
  auth: Record<string, unknown>;
  query: Record<string, string>;
}

export type Material = { ok: true; request: AuthWebhookRequest; hasCredential: boolean } | Failure;
type Failure = { ok: false; code: AuthFailureCode; message: string };
export type WebhookAuthResult = { ok: true; user: AuthUser } | Failure;

const AuthAnswer = z.object({
  user: z.looseObject({ id: UserIdValue, name: DisplayName.optional() }),
  /** Rooms (or patterns) the user may join under the "claim" rule, as a token's JOIN_CLAIM claim. */
  rooms: z.array(z.string().min(1).max(128)).max(1_000).optional(),
});

/** Cookie header → { name: value }; the first occurrence of a name wins, as in browsers' order. */
export function parseCookies(header: string): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    if (name && !(name in cookies)) cookies[name] = pair.slice(eq + 1).trim();
  }
  return cookies;
}

const tooLarge = (what: string, limit: number): Failure => ({
  ok: false,
  code: "credential_too_large",
  message: `${what} exceeds the ${limit} bytes the auth webhook is sent`,
});

/** What the webhook is sent for this handshake, bounded; `hasCredential` is false when it would learn nothing. */
export function credentialMaterial(handshake: Handshake, nsp: string, headerNames: readonly string[]): Material {
  const headers: Record<string, string> = {};
  for (const name of ["cookie", ...headerNames]) {
    const value = handshake.headers[name];
    if (typeof value !== "string" || value.length === 0) continue;
    const limit = name === "cookie" ? AUTH_WEBHOOK_LIMITS.cookie : AUTH_WEBHOOK_LIMITS.header;
    if (value.length > limit) return tooLarge(`the ${name} header`, limit);
    headers[name] = value;
  }
  const auth = handshake.auth ?? {};
  if (JSON.stringify(auth).length > AUTH_WEBHOOK_LIMITS.auth) return tooLarge("the auth payload", AUTH_WEBHOOK_LIMITS.auth);
  const query = Object.fromEntries(Object.entries(handshake.query).filter(([key]) => !ENGINE_PARAMS.has(key)));
  if (JSON.stringify(query).length > AUTH_WEBHOOK_LIMITS.query) return tooLarge("the query", AUTH_WEBHOOK_LIMITS.query);
  const request: AuthWebhookRequest = {
    type: AUTH_EVENT_TYPE,
    nsp,
    headers,
    cookies: headers.cookie ? parseCookies(headers.cookie) : {},
    auth,
    query,
  };
  const hasCredential =
    Object.keys(headers).length > 0 || Object.keys(query).length > 0 || Object.keys(auth).some((key) => !NON_CREDENTIAL_AUTH.has(key));
  return { ok: true, request, hasCredential };
}

/** The user a valid answer describes: extra fields kept, `rooms` as the JOIN_CLAIM claim, never a guest. */
export function userOfAnswer(answer: unknown, joinClaim: string): AuthUser | null {
  const parsed = AuthAnswer.safeParse(answer);
  if (!parsed.success) return null;
  const { id, name, guest: _guest, ...extra } = parsed.data.user;
  const user: AuthUser = { ...extra, id, name: name ?? id };
  if (parsed.data.rooms) user[joinClaim] = parsed.data.rooms;
  return user;
}

/** One cache per webhook configuration and isolate (shared by the hosts an isolate runs). */
const caches = new Map<string, TtlCache<AuthUser>>();
/** Handshakes with the same credential while one request is out share its answer. */
const inFlight = new Map<string, Promise<WebhookAuthResult>>();

export class AuthWebhook {
  private readonly cache: TtlCache<AuthUser>;

  constructor(
    private readonly config: AuthWebhookConfig,
    private readonly joinClaim: string,
  ) {
    const id = `${config.url} ${config.cacheSize} ${config.cacheTtlMs}`;
    let cache = caches.get(id);
    if (!cache) {
      cache = new TtlCache<AuthUser>(config.cacheSize, config.cacheTtlMs);
      caches.set(id, cache);
    }
    this.cache = cache;
  }

  material(handshake: Handshake, nsp: string): Material {
    return credentialMaterial(handshake, nsp, this.config.headers);
  }

  async authenticate(request: AuthWebhookRequest): Promise<WebhookAuthResult> {
    const { type: _type, cookies: _cookies, ...credential } = request;
    const key = await sha256Hex(`${this.config.url}\n${JSON.stringify(credential)}`);
    // Copies: each socket gets its own socket.data.user, so an app mutating it cannot change the cache.
    const cached = this.cache.get(key);
    if (cached) return { ok: true, user: structuredClone(cached) };
    let pending = inFlight.get(key);
    if (!pending) {
      pending = this.ask(request).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    const result = await pending;
    if (!result.ok) return result;
    this.cache.set(key, result.user);
    return { ok: true, user: structuredClone(result.user) };
  }

  private async ask(request: AuthWebhookRequest): Promise<WebhookAuthResult> {
    const { url, secret, timeoutMs } = this.config;
    const unavailable = (message: string): Failure => ({ ok: false, code: "auth_unavailable", message });
    const body = JSON.stringify(request);
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "edgeio-webhooks/1",
          "x-edgeio-event-type": AUTH_EVENT_TYPE,
          [SIGNATURE_HEADER]: await signatureHeader(secret, body),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      return unavailable(timedOut ? `the auth webhook did not answer within ${timeoutMs} ms` : "the auth webhook could not be reached");
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      return { ok: false, code: "credential_rejected", message: `the auth webhook refused the credentials (${response.status})` };
    }
    if (!response.ok) {
      await response.body?.cancel();
      return unavailable(`the auth webhook answered ${response.status}`);
    }
    const read = await readWebhookAnswer(response).catch(() => ({ ok: false as const, error: "answer could not be read" }));
    if (!read.ok) return unavailable(`the auth webhook's ${read.error}`);
    const user = userOfAnswer(parseOrNull(read.text), this.joinClaim);
    return user
      ? { ok: true, user }
      : unavailable('the auth webhook\'s answer is not {"user":{"id":string,"name"?:string,…},"rooms"?:string[]}');
  }
}

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
