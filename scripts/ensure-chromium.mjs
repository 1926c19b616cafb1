// Runs before `npm test`: the browser tests drive Debian's Chromium (a browser download step
// cannot work on these machines). Installs it with apt-get when missing and we are root.
import { execSync } from "node:child_process";
import { existsSync } from "node:fs";

const CHROMIUM = "/usr/bin/chromium";

if (!existsSync(CHROMIUM)) {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || !existsSync("/usr/bin/apt-get")) {
    console.error(`edgeio tests need Chromium at ${CHROMIUM}: install it with "sudo apt-get install -y chromium".`);
    process.exit(1);
  }
  console.log("Installing Chromium from Debian for the browser tests…");
  execSync("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium", { stdio: "inherit" });
}
