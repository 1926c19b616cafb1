/**
 * Building blocks every configuration module uses: parsers for wrangler vars (which arrive as
 * strings or numbers), one error type naming each bad field, and a parse-once-per-env cache.
 */
import { z } from "zod";

/** Shared var parsers (wrangler vars arrive as strings or numbers). */
export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** A boolean var: true/false, "true"/"false" or "1"/"0". */
export const booleanFlag = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(["true", "false", "1", "0"])])
    .optional()
    .transform((value) => (value === undefined ? fallback : value === true || value === "true" || value === "1"));

/** "a, b ,c" → ["a","b","c"]; also accepts a real array (vars may be JSON). */
export const commaList = (fallback: string[]) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((value) => {
      if (value === undefined) return fallback;
      const list = Array.isArray(value) ? value : value.split(",");
      return list.map((entry) => entry.trim()).filter((entry) => entry.length > 0);
    });

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`edgeio: invalid configuration:\n  - ${issues.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** The issues a configuration check reports (its ConfigError's), or [] when it passes; other errors propagate. */
export function configIssues(check: () => unknown): string[] {
  try {
    check();
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
}

/** zod issues as "FIELD: message" lines, the form every configuration error uses. */
export function issueList(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
}

/**
 * Parses once per env object (the runtime hands the same object to every request of an
 * isolate). Every configuration module uses this.
 */
export function perEnv<T>(parse: (raw: Record<string, unknown>) => T): (env: object) => T {
  const cache = new WeakMap<object, T>();
  return (env) => {
    let value = cache.get(env);
    if (value === undefined) {
      value = parse(env as Record<string, unknown>);
      cache.set(env, value);
    }
    return value;
  };
}
