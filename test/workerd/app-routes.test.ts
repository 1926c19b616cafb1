/**
 * HTTP routes contributed by an app (`defineApp(setup, { routes })`): mounted by createWorker,
 * unable to shadow the core routes; the core Worker itself mounts nothing app-specific.
 */
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { roomStub, type EdgeioBindings } from "../../durable-objects/bindings";
import { clusterEmitter, createWorker, defineApp } from "../../worker/edgeio";

const app = defineApp(() => {}, {
  routes: (http) => {
    http.get("/hello", (c) => c.json({ hello: String(c.env.ENVIRONMENT) }));
    // What the team needed: its own health route, reading the cluster through the bindings.
    http.get("/health/websocket", async (c) => {
      const env = c.env as unknown as EdgeioBindings;
      const hosts = await roomStub(env, "/", null).hosts();
      const reached = await clusterEmitter(env).of(["/", "/admin"]).emit("health:ping");
      return c.json({ ok: true, hosts: hosts.length, reached: reached.sockets });
    });
    // Tries to take over the Engine.IO endpoint and the HTTP API: both must stay the core's.
    http.all("/socket.io/", (c) => c.text("shadowed"));
    http.all("/v1/*", (c) => c.text("shadowed"));
  },
});

type WorkerEnv = Parameters<ReturnType<typeof createWorker>["handler"]["fetch"]>[1];

async function fetchApp(path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await createWorker(app).handler.fetch(new Request(`http://edgeio.test${path}`, init), env as unknown as WorkerEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe("app routes", () => {
  it("serves the routes an app contributes, with its env", async () => {
    const response = await fetchApp("/hello");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ hello: "test" });
  });

  it("a custom GET /health/websocket reaches the Durable Objects and the cluster", async () => {
    const response = await fetchApp("/health/websocket");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, hosts: expect.any(Number), reached: expect.any(Number) });
    expect((await fetchApp("/health/websocket", { method: "POST" })).status).toBe(404);
  });

  it("cannot shadow the Engine.IO endpoint or /v1", async () => {
    const engine = await fetchApp("/socket.io/?EIO=3&transport=polling");
    expect(engine.status).toBe(400);
    expect(await engine.json()).toEqual({ code: 5, message: "Unsupported protocol version" });
    const api = await fetchApp("/v1/rooms/x/emit", { method: "POST" });
    expect(await api.text()).not.toBe("shadowed");
  });

  it("the echo app contributes none: no /dev/token", async () => {
    const response = await SELF.fetch("http://edgeio.test/dev/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Ada" }),
    });
    expect(response.status).toBe(404);
    await response.arrayBuffer();
  });
});
