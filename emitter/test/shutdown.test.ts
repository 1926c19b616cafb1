/** `emitter.shutdown()` against a fake fetch: the request it sends and how answers come back. */
import { describe, expect, it } from "vitest";
import { Emitter, PermissionError, type ShutdownResult } from "../src/index.js";

const answer: ShutdownResult = { ok: true, hosts: 3, sockets: 42, failed: 0, failures: [], reconnect_delay_ms: 2000, jitter_ms: 500 };

function emitterWith(status: number, body: unknown) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetch = async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  };
  const emitter = new Emitter({
    url: "https://rt.example.com",
    apiKey: "key-1234567890abcdef",
    fetch: fetch as typeof globalThis.fetch,
    retries: 0,
  });
  return { emitter, calls };
}

describe("emitter.shutdown", () => {
  it("POSTs /v1/shutdown with the delays and namespaces, and returns the service's counts", async () => {
    const { emitter, calls } = emitterWith(200, answer);
    const result = await emitter.of("/chat").shutdown({ reconnectDelayMs: 2000, jitterMs: 500, namespaces: ["/", "/chat"] });
    expect(result).toEqual(answer);
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe("https://rt.example.com/v1/shutdown");
    expect(calls[0].init.method).toBe("POST");
    expect(new Headers(calls[0].init.headers).get("authorization")).toBe("Bearer key-1234567890abcdef");
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ reconnect_delay_ms: 2000, jitter_ms: 500, namespaces: ["/", "/chat"] });
  });

  it("leaves unset options to the service's defaults (every namespace, not the emitter's)", async () => {
    const { emitter, calls } = emitterWith(200, answer);
    await emitter.of("/chat").shutdown();
    expect(JSON.parse(String(calls[0].init.body))).toEqual({});
  });

  it("rejects with PermissionError for a read-only key", async () => {
    const { emitter } = emitterWith(403, { error: { code: "forbidden", message: "this API key may only read" } });
    await expect(emitter.shutdown()).rejects.toBeInstanceOf(PermissionError);
  });
});
