/**
 * JSON with a nesting limit. Recursive code that walks parsed values (validators, encoders,
 * JSON.stringify) can overflow the stack on deeply nested input, so external JSON is refused
 * above a depth limit *before* it is parsed, by a linear scan that uses no recursion.
 * Pure: it imports nothing from the rest of edgeio.
 */

/** The nesting limit for external JSON (HTTP API bodies, webhook answers, Socket.IO packets). */
export const MAX_JSON_DEPTH = 32;

/** The input nests arrays/objects deeper than the limit. */
export class JsonTooDeepError extends Error {
  constructor(readonly limit: number) {
    super(`JSON nests deeper than ${limit} levels`);
    this.name = "JsonTooDeepError";
  }
}

const OPEN_BRACKET = 0x5b; // [
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACKET = 0x5d; // ]
const CLOSE_BRACE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * The deepest nesting of `[`/`{` in `text`, ignoring brackets inside strings; stops counting
 * (and returns limit + 1) as soon as `limit` is passed. Works on any text, valid JSON or not,
 * so it can run on a Socket.IO packet whose JSON follows a prefix (`42/nsp,1[…]`).
 */
export function jsonDepth(text: string, limit = Number.MAX_SAFE_INTEGER): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if ((code === CLOSE_BRACKET || code === CLOSE_BRACE) && depth > 0) {
      depth--;
    }
  }
  return deepest;
}

/** Throws JsonTooDeepError when `text` nests deeper than `limit`. */
export function assertJsonDepth(text: string, limit = MAX_JSON_DEPTH): void {
  if (jsonDepth(text, limit) > limit) throw new JsonTooDeepError(limit);
}

/** JSON.parse that throws JsonTooDeepError (before parsing) above `limit`, SyntaxError on bad JSON. */
export function parseJsonWithDepth(text: string, limit = MAX_JSON_DEPTH): unknown {
  assertJsonDepth(text, limit);
  return JSON.parse(text);
}
