/**
 * The bench's edgeio Worker (room-worker.ts: the room workload's app) with the bench's counters
 * around it: the same classes and handler, counted (see counters.ts). bench/systems/engine.ts
 * writes a wrangler.toml next to it from examples/echo/wrangler.toml with only `main` changed.
 */
import * as room from "./room-worker";
import { instrumentClasses, instrumentHandler } from "./counters";

instrumentClasses(Object.values(room).filter((value) => typeof value === "function") as never);
export * from "./room-worker";
export default instrumentHandler(room.default);
