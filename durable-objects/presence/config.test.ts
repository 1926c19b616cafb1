import { describe, expect, it } from "vitest";
import { ConfigError } from "../../protocol/config-vars";
import { matchesPattern, parsePresenceConfig } from "./config";

describe("matchesPattern", () => {
  it("matches exactly when there is no *", () => {
    expect(matchesPattern("lobby", "lobby")).toBe(true);
    expect(matchesPattern("lobby", "lobby2")).toBe(false);
    expect(matchesPattern("lobby", "Lobby")).toBe(false);
  });

  it("lets * match any run of characters, the empty run included", () => {
    expect(matchesPattern("*", "")).toBe(true);
    expect(matchesPattern("*", "anything:at/all")).toBe(true);
    expect(matchesPattern("user:*", "user:alice")).toBe(true);
    expect(matchesPattern("user:*", "user:")).toBe(true);
    expect(matchesPattern("user:*", "xuser:alice")).toBe(false);
    expect(matchesPattern("*:admin", "team:admin")).toBe(true);
    expect(matchesPattern("*:admin", "team:admins")).toBe(false);
    expect(matchesPattern("a*b*c", "a-x-b-y-c")).toBe(true);
    expect(matchesPattern("a*b*c", "a-x-c")).toBe(false);
  });

  it("treats regular-expression characters in patterns literally", () => {
    expect(matchesPattern("room.*", "room.1")).toBe(true);
    expect(matchesPattern("room.*", "roomx1")).toBe(false);
    expect(matchesPattern("a+(b)*", "a+(b)c")).toBe(true);
    expect(matchesPattern("a+(b)*", "aa(b)c")).toBe(false);
    expect(matchesPattern("[x]*", "[x]y")).toBe(true);
    expect(matchesPattern("[x]*", "xy")).toBe(false);
  });
});

describe("parsePresenceConfig", () => {
  it("has defaults", () => {
    expect(parsePresenceConfig({})).toEqual({
      graceMs: 5_000,
      leaseMs: 60_000,
      maxMembers: null,
      maxStateBytes: 1_024,
      silentRooms: ["user:*"],
    });
  });

  it("reads string vars; a grace of 0 and no silent rooms are allowed", () => {
    expect(
      parsePresenceConfig({
        PRESENCE_GRACE_MS: "0",
        PRESENCE_LEASE_MS: "1000",
        ROOM_MAX_MEMBERS: "50",
        PRESENCE_MAX_STATE_BYTES: 64,
        PRESENCE_SILENT_ROOMS: "",
      }),
    ).toEqual({ graceMs: 0, leaseMs: 1000, maxMembers: 50, maxStateBytes: 64, silentRooms: [] });
    expect(parsePresenceConfig({ PRESENCE_SILENT_ROOMS: "user:*, bots:*" }).silentRooms).toEqual(["user:*", "bots:*"]);
  });

  it("names each invalid field", () => {
    let issues: string[] = [];
    try {
      parsePresenceConfig({ PRESENCE_GRACE_MS: -1, PRESENCE_LEASE_MS: "0", ROOM_MAX_MEMBERS: "many", PRESENCE_MAX_STATE_BYTES: 1.5 });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      issues = (error as ConfigError).issues;
    }
    expect(issues.map((issue) => issue.split(":")[0]).sort()).toEqual([
      "PRESENCE_GRACE_MS",
      "PRESENCE_LEASE_MS",
      "PRESENCE_MAX_STATE_BYTES",
      "ROOM_MAX_MEMBERS",
    ]);
  });
});
