import { describe, expect, it } from "vitest";
import { LoadIndex, userIdOf } from "./host-load-index";

describe("userIdOf: what the report's SQL counted as a user (json_type(data, '$.user.id') = 'text')", () => {
  it("is data.user.id when it is a string", () => {
    expect(userIdOf(JSON.stringify({ user: { id: "ann", name: "Ann" } }))).toBe("ann");
    expect(userIdOf(JSON.stringify({ other: 1, user: { id: "" } }))).toBe("");
  });

  it("is null for anything else", () => {
    for (const data of [
      "{}",
      JSON.stringify({ user: { id: 7 } }),
      JSON.stringify({ user: { name: "x" } }),
      JSON.stringify({ user: "ann" }),
      JSON.stringify({ user: null }),
      JSON.stringify({ user: ["ann"] }),
      JSON.stringify([{ user: { id: "ann" } }]),
      JSON.stringify({ nested: { user: { id: "ann" } } }),
      '{"user": {"id": "ann"', // not JSON
      "null",
    ])
      expect(userIdOf(data), data).toBeNull();
  });
});

describe("LoadIndex", () => {
  it("counts distinct users: a user stays while any of its sockets has it", () => {
    const index = new LoadIndex();
    index.setData("s1", JSON.stringify({ user: { id: "ann" } }));
    index.setData("s2", JSON.stringify({ user: { id: "ann" } }));
    index.setData("s3", JSON.stringify({ user: { id: "bob" } }));
    index.setData("s4", "{}");
    expect(index.users(10)).toEqual({ ids: ["ann", "bob"], count: 2 });
    index.setData("s1", JSON.stringify({ user: { id: "cid" } }));
    index.removeSocket("s3", "/", []);
    expect(index.users(10)).toEqual({ ids: ["ann", "cid"], count: 2 });
    index.removeSocket("s2", "/", []);
    index.setUser("s2", null); // twice: nothing more to take away
    expect(index.users(10)).toEqual({ ids: ["cid"], count: 1 });
    expect(index.users(0)).toEqual({ ids: null, count: 1 });
  });

  it("counts distinct rooms per namespace, without a socket's own id, and lists them while few", () => {
    const index = new LoadIndex();
    index.addMembers("/", "lobby", 2);
    index.addMembers("/", "r1", 1);
    index.addMembers("/api", "lobby", 1);
    index.addMembers(undefined, "ghost", 1); // a membership without a socket row: no join counts it
    expect(index.rooms(10)).toEqual({
      ids: [JSON.stringify(["/", "lobby"]), JSON.stringify(["/", "r1"]), JSON.stringify(["/api", "lobby"])],
      perNamespace: new Map([
        ["/", 2],
        ["/api", 1],
      ]),
    });
    index.removeSocket("s1", "/", ["s1", "lobby", "r1"]);
    index.addMembers("/api", "lobby", -1);
    expect(index.rooms(10)).toEqual({ ids: [JSON.stringify(["/", "lobby"])], perNamespace: new Map([["/", 1]]) });
    expect(index.rooms(0)).toEqual({ ids: null, perNamespace: new Map([["/", 1]]) });
  });
});
