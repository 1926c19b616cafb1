/**
 * Builds the shim: dist/index.js (ESM, socket.io-client left as an import), dist/index.d.ts,
 * dist/edgeio-client.iife.js (everything in one file for a <script> tag, global `EdgeIO`), and
 * copies the IIFE to public/edgeio-client.js for the demo the Worker serves.
 * Usage: node client-shim/build.mjs [--no-types] [--sizes]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const entry = resolve(here, "src/index.ts");
const dist = resolve(here, "dist");
const args = new Set(process.argv.slice(2));
mkdirSync(dist, { recursive: true });

const common = {
  entryPoints: [entry],
  bundle: true,
  minify: true,
  target: "es2020",
  platform: "browser",
  legalComments: "none",
  write: false,
};

const esm = await build({ ...common, format: "esm", external: ["socket.io-client"] });
const iife = await build({ ...common, format: "iife", globalName: "EdgeIO" });

/** Writes only when the bytes differ, so a rebuild does not wake file watchers (wrangler dev). */
function put(path, contents) {
  if (existsSync(path) && readFileSync(path).equals(Buffer.from(contents))) return;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, contents);
}
put(resolve(dist, "index.js"), esm.outputFiles[0].contents);
put(resolve(dist, "edgeio-client.iife.js"), iife.outputFiles[0].contents);
put(resolve(root, "public/edgeio-client.js"), iife.outputFiles[0].contents);

if (!args.has("--no-types")) {
  execFileSync(process.execPath, [resolve(root, "node_modules/typescript/bin/tsc"), "-p", resolve(here, "tsconfig.json")], {
    stdio: "inherit",
  });
}

if (args.has("--sizes")) {
  const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;
  const sio = readFileSync(resolve(root, "node_modules/socket.io-client/dist/socket.io.min.js"));
  const rows = [
    ["shim only (ESM, minified)", esm.outputFiles[0].contents],
    ["shim + socket.io-client (IIFE, minified)", iife.outputFiles[0].contents],
    ["socket.io-client dist/socket.io.min.js", sio],
  ];
  for (const [name, bytes] of rows)
    console.log(`${name.padEnd(44)} ${String(bytes.length).padStart(7)} B  ${String(gz(bytes)).padStart(6)} B gzip`);
}
