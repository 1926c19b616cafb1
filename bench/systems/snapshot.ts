/**
 * A frozen copy of the source tree for `wrangler dev` to run. wrangler dev watches the files it
 * bundles and restarts workerd (dropping every connection) when one changes; on a shared
 * checkout where others keep editing, the benchmark must run code that holds still.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const SKIP = new Set(["node_modules", ".git", ".wrangler", "test-results", "results"]);

export interface Snapshot {
  dir: string;
  /** What was copied: the commit, and whether uncommitted changes were included. */
  source: { commit: string; worktree: boolean; dirty: boolean };
  remove(): void;
}

const git = (...args: string[]) => execFileSync("git", ["-C", ROOT, ...args], { encoding: "utf8" }).trim();

/** `worktree`: the files as they are now (uncommitted edits included); `head`: the last commit. */
export function snapshotSources(from: "worktree" | "head"): Snapshot {
  const dir = mkdtempSync(join(tmpdir(), "edgeio-bench-src-"));
  let commit = "unknown";
  let dirty = false;
  try {
    commit = git("rev-parse", "HEAD");
    dirty = git("status", "--porcelain", "--untracked-files=no").length > 0;
  } catch {
    // not a git checkout: only the worktree can be copied
  }
  if (from === "head") {
    execFileSync("sh", ["-c", `git -C "${ROOT}" archive HEAD | tar -x -C "${dir}"`]);
  } else {
    cpSync(ROOT, dir, { recursive: true, filter: (source) => !SKIP.has(basename(source)) });
  }
  // Dependencies resolve from the real checkout.
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return { dir, source: { commit, worktree: from === "worktree", dirty }, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
