/**
 * The one check every server-side emit path runs before encoding (socket.emit, to().emit,
 * namespace emit, the HTTP API's event name): the event name must be a string Socket.IO does
 * not reserve, and every argument must survive JSON encoding. Without it an object as event
 * name encodes to a packet every receiving client rejects with "parse error" — one bad emit
 * would disconnect a whole room. The caller gets the error; nothing is sent.
 */
import { RESERVED_EVENTS } from "../../protocol/socketio-codec";

/** Deeper than this, an argument is refused rather than walked (bounded recursion). */
export const MAX_ARG_DEPTH = 512;

/** Why `event` cannot be emitted, or null if it can. */
export function eventNameProblem(event: unknown): string | null {
  if (typeof event !== "string") return `the event name must be a string, got ${describe(event)}`;
  if (RESERVED_EVENTS.has(event)) return `"${event}" is a reserved event name`;
  return null;
}

/**
 * Throws (TypeError for a non-string name or an unencodable argument, Error for a reserved
 * name, as Socket.IO does) unless `emit(event, ...args)` can be encoded. With `ack`, a
 * trailing function is the acknowledgement callback and allowed.
 */
export function assertEmittable(event: unknown, args: readonly unknown[], options: { ack: boolean }): asserts event is string {
  const problem = eventNameProblem(event);
  if (problem !== null) throw typeof event === "string" ? new Error(problem) : new TypeError(problem);
  const data = options.ack && typeof args[args.length - 1] === "function" ? args.slice(0, -1) : args;
  for (let i = 0; i < data.length; i++) {
    const found = unencodable(data[i], `argument ${i + 1}`, [], 0);
    if (found !== null) throw new TypeError(`cannot emit "${event}": ${found}`);
  }
}

/** The first part of `value` JSON (or a binary attachment) cannot carry, described by its path. */
function unencodable(value: unknown, path: string, ancestors: object[], depth: number): string | null {
  switch (typeof value) {
    case "function":
      return `${path} is a function (only a trailing acknowledgement callback is allowed)`;
    case "bigint":
      return `${path} is a BigInt`;
    case "symbol":
      return `${path} is a Symbol`;
    case "object":
      break;
    default:
      return null;
  }
  if (value === null || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return null;
  if (typeof Blob !== "undefined" && value instanceof Blob) return null;
  if (ancestors.includes(value)) return `${path} is a circular reference`;
  if (depth >= MAX_ARG_DEPTH) return `${path} is nested deeper than ${MAX_ARG_DEPTH} levels`;
  // Date and friends serialise through toJSON; what they return is JSON already.
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return null;
  ancestors.push(value);
  try {
    const entries: Array<[string, unknown]> = Array.isArray(value)
      ? value.map((item, i) => [`[${i}]`, item])
      : Object.entries(value).map(([key, item]) => [`.${key}`, item]);
    for (const [step, item] of entries) {
      const found = unencodable(item, `${path}${step}`, ancestors, depth + 1);
      if (found !== null) return found;
    }
    return null;
  } finally {
    ancestors.pop();
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value === undefined) return "undefined";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
