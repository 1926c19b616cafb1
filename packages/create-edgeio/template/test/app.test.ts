/**
 * The app end to end: `wrangler dev` and real socket.io-client connections (WebSocket and
 * HTTP long-polling), a room message from one client to another, the app's HTTP route, and a
 * backend publishing through the HTTP API.
 */
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer, type DevServer } from "./dev-server";

const API_KEY = "test-api-key-0123456789"; // API keys are at least 16 characters
let server: DevServer;
const clients: Socket[] = [];

beforeAll(async () => {
  server = await startDevServer({ API_KEYS: API_KEY });
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await server?.stop();
});

async function connect(options: Parameters<typeof io>[1] = {}): Promise<{ socket: Socket; welcome: any }> {
  const socket = io(server.url, { reconnection: false, ...options });
  clients.push(socket);
  const welcome = await new Promise((resolve, reject) => {
    socket.once("welcome", resolve);
    socket.once("connect_error", reject);
  });
  return { socket, welcome };
}

/** A development token (POST /dev/token, served by `npm run dev`): guests are off unless ALLOW_GUESTS=true. */
async function tokenFor(name: string): Promise<string> {
  const response = await fetch(`${server.url}/dev/token`, { method: "POST", body: JSON.stringify({ name }) });
  return ((await response.json()) as { token: string }).token;
}

const nextEvent = (socket: Socket, event: string) => new Promise<any>((resolve) => socket.once(event, resolve));

describe("the app", () => {
  it("relays a room message between a WebSocket client and a long-polling client", async () => {
    const ada = await connect({ transports: ["websocket"], auth: { token: await tokenFor("Ada") } });
    expect(ada.welcome.user).toEqual({ id: "dev:ada", name: "Ada" });
    const bob = await connect({ transports: ["polling"], auth: { token: await tokenFor("Bob") } });
    expect(bob.welcome.user.name).toBe("Bob");

    expect(await ada.socket.emitWithAck("room:join", "lobby")).toMatchObject({ ok: true, room: "lobby" });
    const joined = await bob.socket.emitWithAck("room:join", "lobby");
    expect(joined.counts).toEqual({ connections: 2, users: 2 });

    const received = nextEvent(bob.socket, "message");
    ada.socket.emit("message", "lobby", "hello");
    expect(await received).toEqual({ room: "lobby", text: "hello", user: { id: "dev:ada", name: "Ada" } });

    const counts = await (await fetch(`${server.url}/rooms/lobby`)).json();
    expect(counts).toEqual({ room: "lobby", connections: 2, users: 2 });
    expect(await (await fetch(`${server.url}/users/dev:ada`)).json()).toEqual({ online: true, connections: 1 });
  });

  it("delivers what a backend publishes with the HTTP API, to a room and to a user", async () => {
    const { socket, welcome } = await connect({ auth: { token: await tokenFor("Cleo") } });
    await socket.emitWithAck("room:join", "news");
    const publish = (target: object, event: string) =>
      fetch(`${server.url}/v1/emit`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ ...target, event, args: [{ title: "edgeio app created" }] }),
      });
    const headline = nextEvent(socket, "headline");
    expect((await publish({ rooms: ["news"] }, "headline")).status).toBe(200);
    expect(await headline).toEqual({ title: "edgeio app created" });
    // A client cannot leave its user's room, so what is sent to the user keeps reaching it.
    expect(await socket.emitWithAck("room:leave", `user:${welcome.user.id}`)).toEqual({ ok: false, error: "invalid_room" });
    const notice = nextEvent(socket, "notice");
    expect((await publish({ users: [welcome.user.id] }, "notice")).status).toBe(200);
    expect(await notice).toEqual({ title: "edgeio app created" });
  });

  it("refuses a client without a credential (guests are opt-in: ALLOW_GUESTS=true)", async () => {
    const socket = io(server.url, { reconnection: false, auth: { name: "Guest" } });
    clients.push(socket);
    const error: any = await new Promise((resolve) => socket.once("connect_error", resolve));
    expect(error.data).toMatchObject({ code: "token_required" });
  });

  it("refuses an invalid token", async () => {
    const socket = io(server.url, { reconnection: false, auth: { token: "not-a-jwt" } });
    clients.push(socket);
    const error: any = await new Promise((resolve) => socket.once("connect_error", resolve));
    expect(error.data).toMatchObject({ code: "invalid_token" });
  });
});
