import { describe, expect, it } from "vitest";
import { mintSocketId } from "../../protocol/ids";
import type { EdgeioBindings } from "../bindings";
import { hostsFor } from "./hosts";

const SECRET = "a-test-secret-of-enough-length";

/** Bindings whose RoomDOs answer `hosts()` from `rooms` (keyed by room, "" for the namespace), recording who is asked. */
function fakeEnv(rooms: Record<string, string[]>) {
  const asked: string[] = [];
  const ROOM = {
    idFromName: (name: string) => name,
    get: (id: string) => {
      const [, room] = JSON.parse(id) as [string, string | null];
      return {
        hosts: async () => {
          asked.push(room ?? "");
          return rooms[room ?? ""] ?? [];
        },
      };
    },
  };
  return { env: { ENVIRONMENT: "test", SID_SECRET: SECRET, ROOM } as unknown as EdgeioBindings, asked };
}

describe("hostsFor", () => {
  it("asks the namespace RoomDO when the target names no room", async () => {
    const { env, asked } = fakeEnv({ "": ["h1", "h2"], a: ["h3"] });
    expect([...(await hostsFor(env, { nsp: "/", rooms: [], except: [] }))].sort()).toEqual(["h1", "h2"]);
    expect(asked).toEqual([""]);
  });

  it("joins the hosts of every room, each host once", async () => {
    const { env } = fakeEnv({ a: ["h1", "h2"], b: ["h2", "h3"], c: [] });
    expect([...(await hostsFor(env, { nsp: "/", rooms: ["a", "b", "c"], except: [] }))].sort()).toEqual(["h1", "h2", "h3"]);
  });

  it("sends a verified socket id straight to its host, and a forged one nowhere, asking no RoomDO", async () => {
    const { env, asked } = fakeEnv({});
    const genuine = await mintSocketId(SECRET, "fra:7");
    const forged = await mintSocketId("another-secret-of-enough-length", "fra:8");
    expect([...(await hostsFor(env, { nsp: "/", rooms: [genuine, forged], except: [] }))]).toEqual(["fra:7"]);
    expect(asked).toEqual([]);
  });
});
