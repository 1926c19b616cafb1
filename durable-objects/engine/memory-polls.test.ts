import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { HOT_HOLD_MS, MemoryPolls } from "./memory-polls";

describe("MemoryPolls", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("answers a held GET with the frames that come for it, once", async () => {
    const polls = new MemoryPolls();
    const held = polls.hold("s");
    expect(polls.held("s")).toBe(true);
    expect(polls.answer("s", ["4a", "4b"])).toBe(true);
    expect(polls.held("s")).toBe(false);
    expect(polls.answer("s", ["4c"])).toBe(false); // nothing held: the caller queues them
    await expect(held).resolves.toEqual({ frames: ["4a", "4b"] });
  });

  it("sends a GET still unanswered after HOT_HOLD_MS to a channel", async () => {
    const polls = new MemoryPolls();
    const held = polls.hold("s");
    vi.advanceTimersByTime(HOT_HOLD_MS - 1);
    expect(polls.held("s")).toBe(true);
    vi.advanceTimersByTime(1);
    await expect(held).resolves.toEqual({ channel: true });
    expect(polls.held("s")).toBe(false);
  });

  it("a newer GET ends the older one with no frames; frames then go to the newer one", async () => {
    const polls = new MemoryPolls();
    const older = polls.hold("s");
    const newer = polls.hold("s");
    await expect(older).resolves.toEqual({ frames: [] });
    polls.answer("s", ["4x"]);
    await expect(newer).resolves.toEqual({ frames: ["4x"] });
  });

  it("keeps sessions apart, and an answered GET's timer does not fire later", async () => {
    const polls = new MemoryPolls();
    const a = polls.hold("a");
    const b = polls.hold("b");
    polls.answer("a", ["4a"]);
    const again = polls.hold("a");
    vi.advanceTimersByTime(HOT_HOLD_MS / 2);
    polls.answer("a", ["4a2"]);
    await expect(a).resolves.toEqual({ frames: ["4a"] });
    await expect(again).resolves.toEqual({ frames: ["4a2"] });
    vi.advanceTimersByTime(HOT_HOLD_MS);
    await expect(b).resolves.toEqual({ channel: true });
  });
});
