import { afterEach, describe, expect, it, vi } from "vitest";
import { backoff } from "./backoff";

const config = { retryBaseMs: 1_000, retryMaxMs: 60_000 };

/** Pins Math.random (the jitter) to `value` for the test. */
const jitter = (value: number) => vi.spyOn(Math, "random").mockReturnValue(value);

afterEach(() => {
  vi.restoreAllMocks();
});

describe("backoff", () => {
  it("doubles from the base delay with each attempt (jitter centred)", () => {
    jitter(0.5);
    expect([1, 2, 3, 4, 5].map((attempt) => backoff(attempt, config))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
  });

  it("is capped at retryMaxMs", () => {
    jitter(0.5);
    expect(backoff(7, config)).toBe(60_000);
    expect(backoff(50, config)).toBe(60_000);
  });

  it("jitters by ±20%", () => {
    jitter(0);
    expect(backoff(3, config)).toBe(3_200);
    expect(backoff(50, config)).toBe(48_000);
    jitter(0.999_999);
    expect(backoff(3, config)).toBe(4_800);
    expect(backoff(50, config)).toBe(72_000);
  });

  it("stays within the bounds with real randomness", () => {
    for (let i = 0; i < 200; i++) {
      const delay = backoff(2, config);
      expect(delay).toBeGreaterThanOrEqual(1_600);
      expect(delay).toBeLessThanOrEqual(2_400);
    }
  });
});
