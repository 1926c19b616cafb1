import { describe, expect, it } from "vitest";
import { assertJsonDepth, jsonDepth, JsonTooDeepError, MAX_JSON_DEPTH, parseJsonWithDepth } from "./json-limits";

const nested = (depth: number, open = "[", close = "]") => open.repeat(depth) + close.repeat(depth);

describe("jsonDepth", () => {
  it("counts arrays and objects", () => {
    expect(jsonDepth("1")).toBe(0);
    expect(jsonDepth("[]")).toBe(1);
    expect(jsonDepth('{"a":[{"b":[]}],"c":{}}')).toBe(4);
    expect(jsonDepth(nested(100))).toBe(100);
  });

  it("ignores brackets inside strings, escaped quotes included", () => {
    expect(jsonDepth('["[[[[", "\\"[[[", {"k{": "]]]"}]')).toBe(2);
    expect(jsonDepth('["\\\\", [[]]]')).toBe(3);
  });

  it("stops at limit + 1 on deep input (20k levels, no recursion)", () => {
    expect(jsonDepth(nested(20_000), 32)).toBe(33);
    expect(jsonDepth("[".repeat(1_000_000))).toBe(1_000_000);
  });

  it("works after a Socket.IO packet prefix", () => {
    expect(jsonDepth('2/chat,12["ev",[[1]]]')).toBe(3);
  });
});

describe("parseJsonWithDepth", () => {
  it("parses JSON at the limit", () => {
    expect(parseJsonWithDepth(nested(MAX_JSON_DEPTH))).toBeInstanceOf(Array);
    expect(parseJsonWithDepth(nested(3, "[", "]"), 3)).toEqual([[[]]]);
  });

  it("refuses one level more before parsing", () => {
    expect(() => parseJsonWithDepth(nested(MAX_JSON_DEPTH + 1))).toThrow(JsonTooDeepError);
    // Invalid JSON that is too deep is reported as too deep: the scan runs first.
    expect(() => parseJsonWithDepth("[".repeat(20_000))).toThrow(JsonTooDeepError);
    expect(() => assertJsonDepth(`{"a":${nested(5)}}`, 5)).toThrow(`deeper than 5 levels`);
  });

  it("throws SyntaxError for shallow invalid JSON", () => {
    expect(() => parseJsonWithDepth("{bad")).toThrow(SyntaxError);
  });
});
