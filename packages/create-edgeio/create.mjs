/**
 * Creates a new edgeio app from template/: copies the files, names the Worker after the
 * directory, writes package.json with the @edgeio packages of this starter's own version, and
 * a `.dev.vars` with a random development API key (git-ignored). Never touches a non-empty directory.
 */
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const TEMPLATE = join(here, "template");
const OWN = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));

/** Versions the generated project starts from (the toolchain the edgeio repository is tested with). */
export const TOOLCHAIN = {
  wrangler: "^4.156.2",
  typescript: "^5.9.3",
  vitest: "^5.1.1",
  "socket.io-client": "^4.8.0",
  "@cloudflare/workers-types": "^5.20261117.1",
  "@types/node": "^22.20.5",
};

export class CreateError extends Error {
  name = "CreateError";
}

/**
 * A Worker name and npm package name from the directory: lowercase letters, digits and dashes,
 * starting with a letter, at most 63 characters (the Workers limit).
 */
export function projectName(directory) {
  const name = basename(resolve(directory))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+$/, "")
    .slice(0, 63);
  if (!name) throw new CreateError(`cannot derive a project name from "${directory}": use a directory name with letters, e.g. my-app`);
  return name;
}

function packageJson(name, version) {
  return {
    name,
    version: "0.0.0",
    private: true,
    type: "module",
    scripts: {
      dev: "wrangler dev --var ENVIRONMENT:development",
      deploy: "wrangler deploy",
      typecheck: "tsc --noEmit && tsc --noEmit -p test",
      test: "npm run typecheck && vitest run",
    },
    dependencies: { "@edgeio/server": `^${version}` },
    devDependencies: { ...TOOLCHAIN },
    engines: { node: ">=22.12" },
    // npm 11 runs only approved install scripts: wrangler's runtime and bundler need theirs.
    allowScripts: { esbuild: true, workerd: true, sharp: false },
  };
}

/**
 * Creates the project in `directory` and returns what it wrote.
 * @param {{ directory: string, version?: string }} options
 */
export function createProject({ directory, version = OWN.version }) {
  const target = resolve(directory);
  const name = projectName(target);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new CreateError(`${target} exists and is not empty: choose a new directory`);
  }
  mkdirSync(target, { recursive: true });
  cpSync(TEMPLATE, target, { recursive: true });
  // npm pack drops files named .gitignore, so the template ships it without the dot.
  renameSync(join(target, "gitignore"), join(target, ".gitignore"));
  const wrangler = join(target, "wrangler.toml");
  writeFileSync(wrangler, readFileSync(wrangler, "utf8").replaceAll("{{name}}", name));
  writeFileSync(join(target, "package.json"), `${JSON.stringify(packageJson(name, version), null, 2)}\n`);
  const apiKey = `dev-${randomBytes(18).toString("base64url")}`;
  writeFileSync(
    join(target, ".dev.vars"),
    `# Local secrets for \`wrangler dev\` (git-ignored). In production: \`wrangler secret put API_KEYS\`.\nAPI_KEYS=${apiKey}\n`,
  );
  return { directory: target, name, version, files: listFiles(target) };
}

function listFiles(root, prefix = "") {
  return readdirSync(join(root, prefix), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(root, join(prefix, entry.name)) : [join(prefix, entry.name)],
  );
}
