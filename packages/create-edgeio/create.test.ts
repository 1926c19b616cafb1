/**
 * The starter's generator, and that what it generates stays in step with the repository:
 * every binding, rate limiter and compatibility flag of the root wrangler.toml, the packages'
 * versions and the toolchain the repository is tested with.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain JavaScript (the bin runs without a build step), no declarations
import { CreateError, createProject, projectName, TOOLCHAIN } from "./create.mjs";

const ROOT = resolve(import.meta.dirname, "../..");
const scratch = mkdtempSync(join(tmpdir(), "create-edgeio-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const readJson = (path: string) => JSON.parse(readFileSync(resolve(ROOT, path), "utf8"));

/** `[[section]]` blocks of a wrangler.toml as { key: raw value } maps (enough for its simple shape). */
function blocks(toml: string, section: string): Array<Record<string, string>> {
  return toml
    .split(/^\[\[/m)
    .filter((part) => part.startsWith(`${section}]]`))
    .map((part) => {
      const body = part.split(/^\[/m)[0];
      return Object.fromEntries([...body.matchAll(/^(\w+)\s*=\s*(.+)$/gm)].map((m) => [m[1], m[2].trim()]));
    });
}
const strings = (raw: string | undefined) => [...(raw ?? "").matchAll(/"([^"]+)"/g)].map((m) => m[1]);

describe("create-edgeio", () => {
  it("creates a project named after its directory, with package.json, secrets and every file", () => {
    const project = createProject({ directory: join(scratch, "My Chat_App"), version: "1.2.3" });
    expect(project.name).toBe("my-chat-app");
    expect(project.files.sort()).toEqual(
      [
        ".dev.vars",
        ".gitignore",
        "README.md",
        "package.json",
        "src/app.ts",
        "src/index.ts",
        "test/app.test.ts",
        "test/dev-server.ts",
        "test/tsconfig.json",
        "tsconfig.json",
        "vitest.config.ts",
        "wrangler.toml",
      ].sort(),
    );
    const pkg = JSON.parse(readFileSync(join(project.directory, "package.json"), "utf8"));
    expect(pkg).toMatchObject({ name: "my-chat-app", private: true, dependencies: { "@edgeio/server": "^1.2.3" } });
    expect(Object.keys(pkg.scripts)).toEqual(expect.arrayContaining(["dev", "deploy", "test"]));
    const toml = readFileSync(join(project.directory, "wrangler.toml"), "utf8");
    expect(toml).toMatch(/^name = "my-chat-app"$/m);
    expect(toml).not.toContain("{{");
    // A fresh development API key per project, long enough for API_KEYS' 16-character minimum.
    const vars = readFileSync(join(project.directory, ".dev.vars"), "utf8");
    expect(vars).toMatch(/^API_KEYS=dev-[\w-]{20,}$/m);
    expect(readFileSync(join(project.directory, ".gitignore"), "utf8")).toMatch(/^\.dev\.vars$/m);
  });

  it("never writes into a non-empty directory", () => {
    const taken = join(scratch, "taken");
    mkdirSync(taken);
    writeFileSync(join(taken, "keep.txt"), "mine");
    expect(() => createProject({ directory: taken })).toThrow(CreateError);
    expect(readFileSync(join(taken, "keep.txt"), "utf8")).toBe("mine");
  });

  it("derives Worker names wrangler accepts, or refuses", () => {
    expect(projectName("/tmp/chat")).toBe("chat");
    expect(projectName("./2024 Realtime!!")).toBe("realtime");
    expect(projectName("a".repeat(80))).toHaveLength(63);
    expect(() => projectName("/tmp/1234")).toThrow(CreateError);
  });

  it("declares every binding, migration class, rate limiter and flag of the repository's wrangler.toml", () => {
    const root = readFileSync(resolve(ROOT, "wrangler.toml"), "utf8");
    const template = readFileSync(resolve(import.meta.dirname, "template/wrangler.toml"), "utf8");
    const pairs = (toml: string) => blocks(toml, "durable_objects.bindings").map((b) => `${b.name}=${b.class_name}`);
    expect(pairs(template).sort()).toEqual(pairs(root).sort());
    const classes = (toml: string) => blocks(toml, "migrations").flatMap((b) => strings(b.new_sqlite_classes));
    expect(classes(template).sort()).toEqual(classes(root).sort());
    const limiters = (toml: string) => blocks(toml, "ratelimits").map((b) => `${b.name} ${b.simple}`);
    expect(limiters(template)).toEqual(limiters(root));
    expect(limiters(template)).toHaveLength(1);
    const flags = (toml: string) => strings(/^compatibility_flags\s*=\s*(.+)$/m.exec(toml)?.[1]);
    expect(flags(template)).toEqual(flags(root));
  });

  it("keeps the packages in lockstep and the toolchain on the repository's versions", () => {
    const root = readJson("package.json");
    const versions = ["packages/server", "packages/create-edgeio", "emitter", "client-shim"].map(
      (dir) => readJson(`${dir}/package.json`).version,
    );
    expect(new Set(versions).size).toBe(1);
    expect(readJson("packages/server/package.json").dependencies).toEqual(root.dependencies);
    for (const [name, range] of Object.entries(TOOLCHAIN)) {
      if (name === "socket.io-client") expect(range).toBe(`^${root.devDependencies[name]}.0`);
      else expect(range).toBe(root.devDependencies[name]);
    }
  });
});
