import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, commaList, issueList, perEnv, positiveInt } from "./config-vars";

describe("positiveInt", () => {
  it("coerces strings, applies the fallback and refuses non-positive or fractional values", () => {
    const schema = positiveInt(7);
    expect(schema.parse("42")).toBe(42);
    expect(schema.parse(3)).toBe(3);
    expect(schema.parse(undefined)).toBe(7);
    for (const bad of ["0", -1, "1.5", "abc"]) expect(schema.safeParse(bad).success).toBe(false);
  });
});

describe("commaList", () => {
  it("splits, trims and drops empty entries", () => {
    expect(commaList([]).parse(" a, b ,,c ")).toEqual(["a", "b", "c"]);
    expect(commaList([]).parse(["x ", " y", ""])).toEqual(["x", "y"]);
    expect(commaList([]).parse("")).toEqual([]);
  });

  it("uses the fallback only when unset", () => {
    expect(commaList(["d"]).parse(undefined)).toEqual(["d"]);
    expect(commaList(["d"]).parse("")).toEqual([]);
  });

  it("refuses other types", () => {
    expect(commaList([]).safeParse(5).success).toBe(false);
  });
});

describe("issueList / ConfigError", () => {
  it("names each bad field in 'FIELD: message' lines", () => {
    const result = z.object({ A: positiveInt(1), B: z.string() }).safeParse({ A: "-3", B: 1 });
    expect(result.success).toBe(false);
    const issues = issueList((result as { error: z.ZodError }).error);
    expect(issues).toHaveLength(2);
    expect(issues[0]).toMatch(/^A: /);
    expect(issues[1]).toMatch(/^B: /);
    const error = new ConfigError(issues);
    expect(error.name).toBe("ConfigError");
    expect(error.issues).toEqual(issues);
    expect(error.message).toContain("invalid configuration");
    expect(error.message).toContain(issues[1]);
  });

  it("writes (root) for an issue without a path", () => {
    const result = z.string().safeParse(1);
    expect(issueList((result as { error: z.ZodError }).error)[0]).toMatch(/^\(root\): /);
  });
});

describe("perEnv", () => {
  it("parses once per env object", () => {
    let calls = 0;
    const read = perEnv((raw) => {
      calls++;
      return { value: raw.X };
    });
    const env = { X: 1 };
    expect(read(env)).toBe(read(env));
    expect(calls).toBe(1);
    expect(read({ X: 2 }).value).toBe(2);
    expect(calls).toBe(2);
  });
});
