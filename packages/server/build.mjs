/**
 * Builds @edgeio/server from the repository's sources (worker/, durable-objects/, app/,
 * protocol/) without moving them:
 *   dist/index.js     one ESM bundle (esbuild); `cloudflare:*` and the dependencies stay imports
 *   dist/index.d.ts   the declarations (tsc), re-exported from dist/types/<source tree>
 * It fails when the bundle imports a package that package.json does not list as a dependency,
 * so an install from the tarball can never miss one.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, "dist");
const pkg = JSON.parse(readFileSync(resolve(here, "package.json"), "utf8"));
const dependencies = Object.keys(pkg.dependencies ?? {});
const require = createRequire(import.meta.url);

rmSync(dist, { recursive: true, force: true });

const result = await build({
  entryPoints: [resolve(here, "src/index.ts")],
  outfile: resolve(dist, "index.js"),
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  // Every bare import stays an import: the dependencies are installed beside the package, and
  // wrangler bundles them (once) with the app.
  packages: "external",
  external: ["cloudflare:*", ...builtinModules.map((m) => `node:${m}`)],
  metafile: true,
  legalComments: "none",
  banner: { js: `// @edgeio/server ${pkg.version}: built from the edgeio repository (packages/server/build.mjs).` },
});

const imported = new Set();
for (const output of Object.values(result.metafile.outputs)) {
  for (const { path, external } of output.imports) if (external) imported.add(path);
}
const packageOf = (specifier) => (specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]);
const missing = [...imported]
  .filter((s) => !s.startsWith("cloudflare:") && !s.startsWith("node:"))
  .map(packageOf)
  .filter((p) => !dependencies.includes(p));
if (missing.length > 0) {
  throw new Error(`@edgeio/server imports ${[...new Set(missing)].join(", ")}, missing from packages/server/package.json dependencies`);
}

// Declarations of the whole source tree the entry reaches, then one file that re-exports them.
const tsc = require.resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", resolve(here, "tsconfig.build.json")], { stdio: "inherit" });
writeFileSync(resolve(dist, "index.d.ts"), 'export * from "./types/packages/server/src/index";\n');
console.log(
  `@edgeio/server: dist/index.js (${readFileSync(resolve(dist, "index.js")).length} bytes), imports ${[...imported].sort().join(", ")}`,
);
