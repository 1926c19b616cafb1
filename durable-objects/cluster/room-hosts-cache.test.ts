import { afterEach, describe, expect, it, vi } from "vitest";
import { HOSTS_CACHE_TTL_MS, RoomHostsCache, type RoomHostsAnswer, roomKeyOf } from "./room-hosts-cache";

/** A RoomDO stand-in whose answers the test releases by hand, counting fetches. */
function room(hosts: string[], cacheable = true) {
  const pending: Array<() => void> = [];
  let fetches = 0;
  let manual = false;
  const fetch = (): Promise<RoomHostsAnswer> => {
    fetches += 1;
    const answer = { hosts: [...hosts], cacheable };
    if (!manual) return Promise.resolve(answer);
    return new Promise((resolve) => pending.push(() => resolve(answer)));
  };
  return {
    cache: new RoomHostsCache(fetch),
    hosts,
    fetches: () => fetches,
    hold: () => {
      manual = true;
    },
    release: () => {
      for (const go of pending.splice(0)) go();
    },
  };
}

afterEach(() => vi.useRealTimers());

describe("RoomHostsCache", () => {
  it("asks once, then answers from its copy until invalidated", async () => {
    const r = room(["a", "b"]);
    expect(await r.cache.hosts("/", "x")).toEqual(["a", "b"]);
    expect(await r.cache.hosts("/", "x")).toEqual(["a", "b"]);
    expect(r.fetches()).toBe(1);
    r.hosts.push("c");
    r.cache.invalidate(roomKeyOf("/", "x"));
    expect(await r.cache.hosts("/", "x")).toEqual(["a", "b", "c"]);
    expect(r.fetches()).toBe(2);
  });

  it("does not keep a list fetched before an invalidation that arrived meanwhile", async () => {
    const r = room(["a"]);
    r.hold();
    const inFlight = r.cache.hosts("/", "x");
    r.cache.invalidate(roomKeyOf("/", "x")); // the notice overtook the answer
    r.release();
    expect(await inFlight).toEqual(["a"]); // used by the broadcast that asked (it began before the join's ack)
    r.hosts.push("b");
    const next = r.cache.hosts("/", "x");
    r.release();
    expect(await next).toEqual(["a", "b"]);
    expect(r.fetches()).toBe(2);
  });

  it("keeps nothing the room says not to keep, and lets a copy lapse after the TTL", async () => {
    const capped = room(["a"], false);
    await capped.cache.hosts("/", "x");
    await capped.cache.hosts("/", "x");
    expect(capped.fetches()).toBe(2);

    vi.useFakeTimers();
    const r = room(["a"]);
    await r.cache.hosts("/", null);
    vi.advanceTimersByTime(HOSTS_CACHE_TTL_MS - 1);
    await r.cache.hosts("/", null);
    expect(r.fetches()).toBe(1);
    vi.advanceTimersByTime(1);
    await r.cache.hosts("/", null);
    expect(r.fetches()).toBe(2);
  });
});
