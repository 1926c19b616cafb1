// Runs before `npm test`: test/e2e/python.test.ts drives Debian's python-socketio (the
// non-JavaScript client of the e2e suite). Installs it with apt-get when missing and we are root.
import { execSync } from "node:child_process";
import { existsSync } from "node:fs";

const PACKAGES = "python3-socketio python3-requests python3-websocket";

function installed() {
  try {
    execSync('/usr/bin/python3 -c "import socketio, requests, websocket"', { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

if (!installed()) {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || !existsSync("/usr/bin/apt-get")) {
    console.error(`edgeio tests need python-socketio for /usr/bin/python3: "sudo apt-get install -y ${PACKAGES}".`);
    process.exit(1);
  }
  console.log("Installing python-socketio from Debian for the python client test…");
  execSync(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${PACKAGES}`, { stdio: "inherit" });
}
