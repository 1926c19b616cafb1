import { describe, expect, it } from "vitest";
import { sha256Hex, TtlCache } from "./auth-cache";

function clock(start = 1_000) {
  const time = { now: start };
  return { time, now: () => time.now };
}

describe("TtlCache", () => {
  it("answers within the TTL and forgets after it", () => {
    const { time, now } = clock();
    const cache = new TtlCache<string>(10, 500, now);
    cache.set("a", "ada");
    time.now += 499;
    expect(cache.get("a")).toBe("ada");
    time.now += 1;
    expect(cache.get("a")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("counts the age from the answer, not from the last use", () => {
    const { time, now } = clock();
    const cache = new TtlCache<string>(10, 500, now);
    cache.set("a", "ada");
    for (let i = 0; i < 4; i++) {
      time.now += 100;
      expect(cache.get("a")).toBe("ada");
    }
    time.now += 100;
    expect(cache.get("a")).toBeUndefined();
  });

  it("holds at most maxEntries, dropping the oldest first", () => {
    const cache = new TtlCache<number>(3, 60_000);
    for (const key of ["a", "b", "c", "d"]) cache.set(key, key.charCodeAt(0));
    expect(cache.size).toBe(3);
    expect(cache.get("a")).toBeUndefined();
    expect(["b", "c", "d"].map((key) => cache.get(key))).toEqual([98, 99, 100]);
    // Storing a key again makes it the newest.
    cache.set("b", 1);
    cache.set("e", 2);
    expect(cache.get("c")).toBeUndefined();
    expect(cache.get("b")).toBe(1);
  });

  it("stores nothing when its size or TTL is 0", () => {
    for (const cache of [new TtlCache<string>(0, 60_000), new TtlCache<string>(10, 0)]) {
      cache.set("a", "ada");
      expect(cache.get("a")).toBeUndefined();
      expect(cache.size).toBe(0);
    }
  });
});

describe("sha256Hex", () => {
  it("is the hex SHA-256 digest", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await sha256Hex("abd")).not.toBe(await sha256Hex("abc"));
  });
});
