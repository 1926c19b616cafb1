/**
 * A server-side emit with a client-chosen event name must not be able to break a room. An app
 * handler that emits with an object, number or reserved event name, or with an argument JSON
 * cannot carry (function, BigInt, Symbol, cycle), gets the error; nothing is sent, and 8 other
 * real socket.io-client clients in the room stay connected and get the next valid broadcast
 * exactly once. The HTTP API answers 400 and the emitter SDK throws before any request.
 */
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Emitter, InvalidEmitError, ReservedEventError } from "../../../emitter/src/index";
import { connect, TRANSPORT_MODES } from "../../helpers/clients";
import { until } from "../../helpers/default-app";
import { startService, type RunningService } from "../../helpers/service";

const API_KEY = "emit-validation-key-0123456789";
const ROOM = "arena";

let service: RunningService;
let attacker: Socket;
const controls: Array<{ socket: Socket; events: Array<[string, unknown[]]>; disconnects: string[] }> = [];

beforeAll(async () => {
  service = await startService({ vars: { API_KEYS: API_KEY } });
  attacker = await connect(service.url);
  await attacker.timeout(5000).emitWithAck("join", ROOM);
  for (let i = 0; i < 8; i++) {
    const mode = TRANSPORT_MODES[i % TRANSPORT_MODES.length];
    const socket = await connect(service.url, mode.transports ? { transports: mode.transports } : {});
    const control = { socket, events: [] as Array<[string, unknown[]]>, disconnects: [] as string[] };
    socket.onAny((event: string, ...args: unknown[]) => {
      if (event !== "welcome") control.events.push([event, args]);
    });
    socket.on("disconnect", (reason) => control.disconnects.push(reason));
    await socket.timeout(5000).emitWithAck("join", ROOM);
    controls.push(control);
  }
});

afterAll(async () => {
  attacker?.close();
  for (const control of controls) control.socket.close();
  await service?.stop();
});

const emitAs = (spec: Record<string, unknown>) =>
  attacker.timeout(5000).emitWithAck("emit-as", spec) as Promise<{ ok: boolean; name?: string; message?: string }>;

/** A valid broadcast after the bad ones: every control gets it exactly once, and nothing else. */
async function expectRoomIntact(marker: string): Promise<void> {
  attacker.emit("to-room", ROOM, "after", marker);
  await until(
    () => controls.every((c) => c.events.some(([event, args]) => event === "after" && args[0] === marker)),
    `"after" ${marker} on every control`,
  );
  for (const control of controls) {
    expect(control.disconnects).toEqual([]);
    expect(control.socket.connected).toBe(true);
    expect(control.events).toEqual([["after", [marker]]]);
    control.events.length = 0;
  }
  expect(attacker.connected).toBe(true);
}

describe("server-side emit from an app handler", () => {
  it("refuses an object event name relayed by a handler without breaking the room (to-room, no ack)", async () => {
    // The echo example's plain relay: to(room).emit(clientChosenName, …). Before the check,
    // every control closed with "parse error" here.
    attacker.emit("to-room", ROOM, { not: "a string" }, "x");
    attacker.emit("io-to-room", ROOM, ["array", "name"], "x");
    attacker.emit("broadcast", 42, "x");
    await expectRoomIntact("relay");
  });

  it("gives the handler an error for a non-string or reserved name on socket, to() and io.to()", async () => {
    for (const via of ["socket", "to", "io"]) {
      for (const event of [{ not: "a string" }, 42, null, ["x"]]) {
        const reply = await emitAs({ via, room: ROOM, event });
        expect(reply, `${via} ${JSON.stringify(event)}`).toMatchObject({
          ok: false,
          name: "TypeError",
          message: expect.stringMatching(/event name must be a string/),
        });
      }
      for (const event of ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]) {
        const reply = await emitAs({ via, room: ROOM, event });
        expect(reply, `${via} ${event}`).toMatchObject({ ok: false, name: "Error", message: `"${event}" is a reserved event name` });
      }
    }
    await expectRoomIntact("names");
  });

  it("gives the handler an error for arguments that cannot be encoded", async () => {
    const expected: Record<string, RegExp> = {
      function: /is a function/,
      bigint: /is a BigInt/,
      symbol: /is a Symbol/,
      cycle: /argument 1\.self is a circular reference/,
    };
    for (const via of ["socket", "to", "io"]) {
      for (const [bad, message] of Object.entries(expected)) {
        const reply = await emitAs({ via, room: ROOM, event: "data", bad });
        expect(reply, `${via} ${bad}`).toMatchObject({ ok: false, name: "TypeError", message: expect.stringMatching(message) });
      }
    }
    await expectRoomIntact("args");
  });

  it("still sends valid emits on every path", async () => {
    for (const via of ["socket", "to", "io"]) expect(await emitAs({ via, room: ROOM, event: "fine" })).toEqual({ ok: true });
    await until(() => controls.every((c) => c.events.filter(([event]) => event === "fine").length === 2), "two valid emits per control");
    for (const control of controls) control.events.length = 0;
    await expectRoomIntact("valid");
  });
});

describe("HTTP API and emitter SDK", () => {
  const post = (body: unknown) =>
    fetch(`${service.url}/v1/emit`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("/v1/emit answers 400 for a non-string or reserved event name, and sends nothing", async () => {
    for (const event of [{ not: "a string" }, 42, null, "disconnect", "connect"]) {
      const response = await post({ rooms: [ROOM], event, args: ["x"] });
      expect(response.status, JSON.stringify(event)).toBe(400);
      const body = (await response.json()) as { error: { code: string; issues: Array<{ path: string[] }> } };
      expect(body.error.code).toBe("invalid_request");
      expect(body.error.issues.map((issue) => issue.path)).toEqual([["event"]]);
    }
    const ok = await post({ rooms: [ROOM], event: "after", args: ["api"] });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    await until(
      () => controls.every((c) => c.events.some(([event, args]) => event === "after" && args[0] === "api")),
      "the API's valid emit",
    );
    for (const control of controls) {
      expect(control.events).toEqual([["after", ["api"]]]);
      control.events.length = 0;
    }
  });

  it("the emitter throws before any request for bad names and unencodable arguments", () => {
    let requests = 0;
    const emitter = new Emitter({
      url: service.url,
      apiKey: API_KEY,
      fetch: async () => {
        requests++;
        return new Response("{}");
      },
    });
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const room = emitter.to(ROOM);
    expect(() => room.emit({} as unknown as string)).toThrow(InvalidEmitError);
    expect(() => room.emit(42 as unknown as string)).toThrow(/event name must be a string/);
    expect(() => room.emit("disconnect")).toThrow(ReservedEventError);
    expect(() => room.emit("x", BigInt(1))).toThrow(/argument 1 is a BigInt/);
    expect(() => room.emit("x", { nested: [Symbol("s")] })).toThrow(/argument 1\.nested\[0\] is a Symbol/);
    expect(() => room.emit("x", cycle)).toThrow(/circular reference/);
    expect(() => room.emit("x", { callback: () => 1 }, "y")).toThrow(/is a function/);
    expect(() => room.emit("x", () => 1)).toThrow(/acknowledgements are not supported/);
    expect(requests).toBe(0);
  });
});
