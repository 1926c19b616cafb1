/**
 * What `emit` may send, checked before any request: a string event name Socket.IO does not
 * reserve, and arguments JSON (plus binary) can carry. Mirrors the server's check
 * (durable-objects/socketio/emittable.ts); this package ships alone, so it has its own copy.
 */
import { InvalidEmitError, ReservedEventError } from "./errors.js";

/** Socket.IO's reserved names, refused like @socket.io/redis-emitter does. */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);

const MAX_DEPTH = 512;

/** Throws ReservedEventError or InvalidEmitError unless `emit(event, ...args)` can be sent. */
export function assertEmittable(event: unknown, args: readonly unknown[]): asserts event is string {
  if (typeof event !== "string")
    throw new InvalidEmitError(`the event name must be a string, got ${event === null ? "null" : typeof event}`);
  if (RESERVED_EVENTS.has(event)) throw new ReservedEventError(`"${event}" is a reserved event name`);
  args.forEach((arg, i) => {
    if (i === args.length - 1 && typeof arg === "function") {
      throw new InvalidEmitError("acknowledgements are not supported when emitting from a backend");
    }
    const found = unencodable(arg, `argument ${i + 1}`, [], 0);
    if (found !== null) throw new InvalidEmitError(`cannot emit "${event}": ${found}`);
  });
}

function unencodable(value: unknown, path: string, ancestors: object[], depth: number): string | null {
  if (typeof value === "function") return `${path} is a function`;
  if (typeof value === "bigint") return `${path} is a BigInt`;
  if (typeof value === "symbol") return `${path} is a Symbol`;
  if (typeof value !== "object" || value === null || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return null;
  if (ancestors.includes(value)) return `${path} is a circular reference`;
  if (depth >= MAX_DEPTH) return `${path} is nested deeper than ${MAX_DEPTH} levels`;
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
