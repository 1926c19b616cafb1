/**
 * Which app edgeio runs in the bench, and the wrangler.toml that runs it: the room app
 * (bench/workers/room-app.ts, the workload's four events) by default, or the echo example.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Snapshot } from "./snapshot.ts";

/** Which app edgeio runs in the bench (bench/lib/options.ts `edgeioApp`). */
export type EdgeioApp = "room" | "echo";

/**
 * The echo example's wrangler.toml (its bindings and migrations) written into bench/workers/ with
 * `main` pointing at `entry`: the room app's Worker or the echo example's, counted or not.
 */
export function edgeioConfig(snapshot: Snapshot, entry: string): string {
  const echo = readFileSync(join(snapshot.dir, "examples/echo/wrangler.toml"), "utf8");
  const path = join(snapshot.dir, `bench/workers/${basename(entry, ".ts")}.wrangler.toml`);
  writeFileSync(path, echo.replace(/^main\s*=.*$/m, `main = "${entry}"`));
  return path;
}
