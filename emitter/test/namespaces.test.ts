/**
 * Multi-namespace targets of the emitter (`of(["/", "/admin"])`): what reaches the HTTP API,
 * through a recording fetch (no service needed).
 */
import { describe, expect, it } from "vitest";
import { Emitter, EmitterError, MAX_NAMESPACES } from "../src/index";

interface Sent {
  url: string;
  body: Record<string, unknown>;
}

function recordingEmitter(): { emitter: Emitter; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: String(url), body: JSON.parse(String(init?.body)) });
    return new Response(JSON.stringify({ ok: true, rooms: 0, hosts: 2, sockets: 3 }), { headers: { "content-type": "application/json" } });
  }) as typeof globalThis.fetch;
  return { emitter: new Emitter({ url: "http://edgeio.test", apiKey: "unit-key", fetch }), sent };
}

describe("emitter: several namespaces", () => {
  it("of([...]) sends `namespaces` (normalized, deduplicated) and keeps the chain", async () => {
    const { emitter, sent } = recordingEmitter();
    const both = emitter.of(["/", "admin", "/admin"]);
    expect(both.namespaces).toEqual(["/", "/admin"]);
    await both.to("ops").except("muted").emit("presence:online", { id: "7" });
    await both.in("lobby").socketsJoin("vip");
    expect(sent.map((s) => new URL(s.url).pathname)).toEqual(["/v1/emit", "/v1/sockets/join"]);
    expect(sent[0].body).toEqual({
      namespaces: ["/", "/admin"],
      rooms: ["ops"],
      users: [],
      except: ["muted"],
      event: "presence:online",
      args: [{ id: "7" }],
      volatile: false,
    });
    expect(sent[0].body).not.toHaveProperty("namespace");
    expect(sent[1].body).toMatchObject({ namespaces: ["/", "/admin"], rooms: ["lobby"], room: ["vip"] });
  });

  it("one namespace is still sent as `namespace` (older services understand it)", async () => {
    const { emitter, sent } = recordingEmitter();
    await emitter.of(["/chat"]).emit("hello");
    await emitter.of("/admin").emit("hello");
    expect(sent.map((s) => s.body.namespace)).toEqual(["/chat", "/admin"]);
    expect(sent.every((s) => !("namespaces" in s.body))).toBe(true);
  });

  it("refuses an empty list, too many namespaces or a non-string, sending nothing", () => {
    const { emitter, sent } = recordingEmitter();
    expect(() => emitter.of([])).toThrow(EmitterError);
    const tooMany = Array.from({ length: MAX_NAMESPACES + 1 }, (_, i) => `/n${i}`);
    expect(() => emitter.of(tooMany)).toThrow(/1 to 16 namespaces/);
    expect(() => emitter.of(tooMany.slice(0, MAX_NAMESPACES))).not.toThrow();
    expect(() => emitter.of([7 as unknown as string])).toThrow(EmitterError);
    expect(sent).toEqual([]);
  });
});
