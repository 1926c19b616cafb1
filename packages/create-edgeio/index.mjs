#!/usr/bin/env node
/**
 * npm create edgeio@latest <directory>   (= npx create-edgeio <directory>)
 * Creates a new edgeio app there; then: cd <directory> && npm install && npm run dev.
 */
import { relative } from "node:path";
import { argv, exit, stderr, stdout } from "node:process";
import { CreateError, createProject } from "./create.mjs";

const USAGE = "usage: npm create edgeio@latest <directory>";
const args = argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  stdout.write(`${USAGE}\n`);
  exit(0);
}
const unknown = args.filter((arg) => arg.startsWith("-"));
const positional = args.filter((arg) => !arg.startsWith("-"));
if (unknown.length > 0 || positional.length !== 1) {
  stderr.write(`${unknown.length > 0 ? `unknown option ${unknown[0]}\n` : ""}${USAGE}\n`);
  exit(2);
}

try {
  const project = createProject({ directory: positional[0] });
  const where = relative(process.cwd(), project.directory) || ".";
  stdout.write(
    [
      `Created ${project.name} (edgeio ${project.version}) in ${where}:`,
      ...project.files.sort().map((file) => `  ${file}`),
      "",
      "Next:",
      `  cd ${where}`,
      "  npm install",
      "  npm run dev      # http://localhost:8787 — connect any socket.io-client",
      "  npm test         # typecheck, then a real client against `wrangler dev`",
      "",
    ].join("\n"),
  );
} catch (error) {
  if (!(error instanceof CreateError)) throw error;
  stderr.write(`create-edgeio: ${error.message}\n`);
  exit(1);
}
