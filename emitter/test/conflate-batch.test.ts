/** The emitter's conflation option and batched publish: what it sends, and what it refuses before sending. */
import { describe, expect, it } from "vitest";
import { Emitter } from "../src/emitter.js";
import { InvalidEmitError, ValidationError } from "../src/errors.js";

/** An emitter whose fetch records each request and answers `answer`. */
function recording(answer: unknown = { ok: true, rooms: 1, hosts: 1, sockets: 1 }, status = 200) {
  const requests: Array<{ url: string; body: unknown }> = [];
  const emitter = new Emitter({
    url: "https://realtime.example.com",
    apiKey: "key",
    retries: 0,
    fetch: async (url, init) => {
      requests.push({ url: String(url), body: JSON.parse(String(init?.body)) });
      return new Response(JSON.stringify(answer), { status, headers: { "Content-Type": "application/json" } });
    },
  });
  return { emitter, requests };
}

describe("conflate", () => {
  it("sends the conflation option with the emit, on any operator of the chain", async () => {
    const { emitter, requests } = recording();
    await emitter.of("/feed").to("quotes").conflate("AAPL", 100).emit("quote", { bid: 1 });
    await emitter.conflate("MSFT", 250).emit("quote", 2);
    expect(requests[0]).toEqual({
      url: "https://realtime.example.com/v1/emit",
      body: {
        namespace: "/feed",
        rooms: ["quotes"],
        users: [],
        except: [],
        event: "quote",
        args: [{ bid: 1 }],
        volatile: false,
        conflate: { key: "AAPL", interval_ms: 100 },
      },
    });
    expect(requests[1].body).toMatchObject({ rooms: [], conflate: { key: "MSFT", interval_ms: 250 } });
  });

  it("leaves the option out when not asked, and operators stay immutable", async () => {
    const { emitter, requests } = recording();
    const quotes = emitter.to("quotes");
    quotes.conflate("AAPL", 100);
    await quotes.emit("quote", 1);
    expect(requests[0].body).not.toHaveProperty("conflate");
  });

  it("refuses a bad key or interval at once", () => {
    const { emitter } = recording();
    for (const [key, ms] of [
      ["AAPL", 9],
      ["AAPL", 60_001],
      ["AAPL", 100.5],
      ["", 100],
      ["x".repeat(257), 100],
    ] as const) {
      expect(() => emitter.to("quotes").conflate(key, ms)).toThrow(InvalidEmitError);
    }
  });
});

describe("batch", () => {
  it("sends every prepared emit in one request, in order, and returns the per-emit results", async () => {
    const answer = {
      ok: true,
      emits: 2,
      hosts: 2,
      sockets: 3,
      results: [
        { rooms: 1, hosts: 2, sockets: 2 },
        { rooms: 1, hosts: 1, sockets: 1 },
      ],
    };
    const { emitter, requests } = recording(answer);
    const result = await emitter.batch([
      emitter.to("quotes").conflate("AAPL", 100).prepare("quote", { bid: 1 }),
      emitter.user(7).prepare("note", new Uint8Array([1, 2])),
    ]);
    expect(result).toEqual(answer);
    expect(requests).toHaveLength(1);
    expect(requests[0].url).toBe("https://realtime.example.com/v1/emit/batch");
    expect(requests[0].body).toEqual({
      emits: [
        {
          namespace: "/",
          rooms: ["quotes"],
          users: [],
          except: [],
          event: "quote",
          args: [{ bid: 1 }],
          volatile: false,
          conflate: { key: "AAPL", interval_ms: 100 },
        },
        { namespace: "/", rooms: [], users: ["7"], except: [], event: "note", args: [{ _binary: "AQI=" }], volatile: false },
      ],
    });
  });

  it("refuses an empty or oversized batch, and a bad emit while preparing, before any request", () => {
    const { emitter, requests } = recording();
    expect(() => emitter.batch([])).toThrow(InvalidEmitError);
    const one = emitter.prepare("tick", 1);
    expect(() => emitter.batch(Array.from({ length: 1001 }, () => one))).toThrow(/1–1000/);
    expect(() => emitter.to("r").prepare("connect")).toThrow(InvalidEmitError);
    expect(requests).toEqual([]);
  });

  it("a refused batch rejects with the service's issues", async () => {
    const issues = [{ path: ["emits", 1, "conflate", "interval_ms"], code: "too_small", message: "too small" }];
    const { emitter } = recording({ error: { code: "invalid_request", message: "the request body is invalid", issues } }, 400);
    const sent = emitter.batch([emitter.prepare("a"), emitter.prepare("b")]);
    await expect(sent).rejects.toBeInstanceOf(ValidationError);
    await expect(sent).rejects.toMatchObject({ issues });
  });
});
