import { describe, expect, it } from "vitest";
import { mintSocketId } from "../../protocol/ids";
import { privateRoomRefusal, userIdOf, userRoom } from "./private-rooms";

const SECRET = "unit-test-secret-0123456789";

describe("userRoom", () => {
  it("prefixes the user id", () => {
    expect(userRoom("alice")).toBe("user:alice");
  });
});

describe("privateRoomRefusal", () => {
  it("lets a socket join its own id room and ordinary rooms", async () => {
    const id = await mintSocketId(SECRET, "fra:0");
    expect(privateRoomRefusal({ id }, id)).toBeNull();
    expect(privateRoomRefusal({ id }, "lobby")).toBeNull();
    expect(privateRoomRefusal({ id }, "users:all")).toBeNull(); // not the "user:" prefix
  });

  it("refuses another socket's id room, minted or merely shaped like one", async () => {
    const mine = await mintSocketId(SECRET, "fra:0");
    const other = await mintSocketId(SECRET, "fra:1");
    expect(privateRoomRefusal({ id: mine }, other)).toMatch(/private to that socket/);
    const forged = `${other.slice(0, -1)}${other.endsWith("A") ? "B" : "A"}`;
    expect(privateRoomRefusal({ id: mine }, forged)).toMatch(/private to that socket/);
  });

  it("lets a user join only their own user room", () => {
    expect(privateRoomRefusal({ id: "s1", userId: "alice" }, "user:alice")).toBeNull();
    expect(privateRoomRefusal({ id: "s1", userId: "alice" }, "user:bob")).toMatch(/private to their user/);
    expect(privateRoomRefusal({ id: "s1", userId: "alice" }, "user:alice2")).toMatch(/private to their user/);
    expect(privateRoomRefusal({ id: "s1" }, "user:alice")).toMatch(/private to their user/);
    expect(privateRoomRefusal({ id: "s1" }, "user:")).toMatch(/private to their user/);
  });
});

describe("userIdOf", () => {
  it("reads a string socket.data.user.id and nothing else", () => {
    expect(userIdOf({ user: { id: "alice" } })).toBe("alice");
    expect(userIdOf({ user: { id: 42 } })).toBeUndefined();
    expect(userIdOf({ user: null })).toBeUndefined();
    expect(userIdOf({})).toBeUndefined();
    expect(userIdOf(null)).toBeUndefined();
    expect(userIdOf(undefined)).toBeUndefined();
  });
});
