/**
 * The packages as a user gets them: builds and packs @edgeio/server, @edgeio/emitter,
 * @edgeio/client-shim and create-edgeio, creates an app with `npm create edgeio` from the
 * starter's tarball in a scratch directory outside the repository, installs the tarballs there
 * with npm (wrangler and the rest from the registry, through the npm cache), runs the app's own
 * `npm test` (typecheck + real clients against `wrangler dev`), then starts the app with
 * `wrangler dev` and drives it from a script in that project: socket.io-client, the client-shim
 * and the emitter, each imported by its package name.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/service";

const ROOT = resolve(import.meta.dirname, "../..");
const PACKAGES = ["@edgeio/server", "@edgeio/emitter", "@edgeio/client-shim", "create-edgeio"];
const API_KEY = "packages-test-key-0123456789";
const run = promisify(execFile);

// Node >= 22.12 for wrangler: the repository's node@24 first on PATH, as for npm scripts. The
// npm and vitest variables of the outer run must not leak into the scratch project's npm and vitest.
const env: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^(npm_|VITEST|NODE_ENV$|TEST$)/i.test(key)),
);
env.PATH = [join(ROOT, "node_modules/.bin"), process.env.PATH].join(delimiter);
env.WRANGLER_SEND_METRICS = "false";
env.NO_COLOR = "1";

let work: string;
let app: string;
const tarballs = new Map<string, string>();

/** Runs npm; resolves to its stdout, or rejects with everything it printed. */
async function npm(args: string[], cwd: string, timeout = 120_000): Promise<string> {
  try {
    return (await run("npm", args, { cwd, env, timeout, maxBuffer: 32 * 1024 * 1024 })).stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm ${args.join(" ")} failed in ${cwd}: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "edgeio-packages-"));
  // The builds side by side, then one pack of the four (the builds are what prepack would run).
  await Promise.all(PACKAGES.slice(0, 3).map((name) => npm(["run", "build", "--workspace", name], ROOT)));
  const out = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work, ...PACKAGES.flatMap((p) => ["-w", p])], ROOT);
  const packed = JSON.parse(out) as Array<{
    name: string;
    filename: string;
    files: { path: string }[];
  }>;
  for (const entry of packed) tarballs.set(entry.name, join(work, entry.filename));
  // Only built files and the package's own: no repository sources, tests or tsbuild leftovers.
  const server = packed.find((p) => p.name === "@edgeio/server")!;
  expect(server.files.map((f) => f.path)).toEqual(expect.arrayContaining(["dist/index.js", "dist/index.d.ts", "package.json"]));
  expect(server.files.every((f) => f.path.startsWith("dist/") || ["package.json", "README.md"].includes(f.path))).toBe(true);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("packages from their tarballs", () => {
  it("packs four installable tarballs", () => {
    expect([...tarballs.keys()].sort()).toEqual([...PACKAGES].sort());
    for (const file of tarballs.values()) expect(existsSync(file)).toBe(true);
  });

  it("`npm create edgeio` from the starter's tarball creates an app outside the repository", async () => {
    // What `npm create edgeio@latest my-app` runs: npm exec of create-edgeio's bin.
    const out = await npm(
      ["exec", "--yes", "--prefer-offline", `--package=${tarballs.get("create-edgeio")}`, "--", "create-edgeio", "my-app"],
      work,
    );
    app = join(work, "my-app");
    expect(out).toContain("Created my-app");
    expect(app.startsWith(ROOT)).toBe(false);
    const toml = readFileSync(join(app, "wrangler.toml"), "utf8");
    for (const binding of ["CONNECTION_HOST", "ROOM", "USER", "WEBHOOKS", "API_RATE_LIMITER"]) expect(toml).toContain(`"${binding}"`);
  }, 60_000);

  it("installs the tarballs with npm and passes the app's own test (typecheck + real clients)", async () => {
    const server = tarballs.get("@edgeio/server")!;
    const sdks = [tarballs.get("@edgeio/emitter")!, tarballs.get("@edgeio/client-shim")!];
    await npm(["install", "--prefer-offline", "--no-audit", "--no-fund", server, ...sdks], app, 240_000);
    const installed = JSON.parse(readFileSync(join(app, "node_modules/@edgeio/server/package.json"), "utf8"));
    expect(installed.version).toBe(JSON.parse(readFileSync(join(ROOT, "packages/server/package.json"), "utf8")).version);
    // A real install, not a link back into the repository.
    expect(existsSync(join(app, "node_modules/@edgeio/server/dist/index.js"))).toBe(true);
    const out = await npm(["test"], app, 180_000);
    // "Tests  N passed (N)": every test of the app ran and passed, none skipped.
    expect(out).toMatch(/Tests\s+(\d+) passed \(\1\)/);
  }, 420_000);

  it("serves socket.io-client, the client-shim and the emitter from the installed packages", async () => {
    const service = await startApp(app);
    try {
      writeFileSync(join(app, "check.mjs"), CHECK_SCRIPT);
      const { stdout } = await run(process.execPath, ["check.mjs", service.url, API_KEY], { cwd: app, env, timeout: 30_000 });
      const result = JSON.parse(stdout);
      expect(result.plainConnected).toBe(true);
      expect(result.join).toMatchObject({ ok: true, room: "lobby", counts: { connections: 1, users: 1 } });
      expect(result.shimPresence.map((entry: { user: { name: string } }) => entry.user.name).sort()).toEqual(["Plain", "Shim"]);
      expect(result.relayed).toEqual({ room: "lobby", text: "from the shim", user: { id: "dev:shim", name: "Shim" } });
      expect(result.emitted).toEqual([{ headline: "from the emitter" }]);
      expect(result.emitResult).toMatchObject({ sockets: 2 });
    } finally {
      await service.stop();
    }
  }, 90_000);
});

/**
 * Runs inside the scratch project, so every import resolves through that project's node_modules
 * and the packages' `exports`: one plain socket.io-client over long-polling, one client-shim
 * socket over WebSocket (each with a development JWT) in the same room, then an emit through
 * @edgeio/emitter reaching both.
 */
const CHECK_SCRIPT = `
import { io } from "socket.io-client";
import { connect } from "@edgeio/client-shim";
import { Emitter } from "@edgeio/emitter";
const [url, apiKey] = process.argv.slice(2);
const once = (socket, event) => new Promise((resolve) => socket.once(event, resolve));
const timeout = setTimeout(() => { console.error("check timed out"); process.exit(1); }, 20000);

// Development JWTs for both: guests are off unless ALLOW_GUESTS=true.
const tokenFor = async (name) => (await (await fetch(url + "/dev/token", { method: "POST", body: JSON.stringify({ name }) })).json()).token;
const plain = io(url, { transports: ["polling"], reconnection: false, auth: { token: await tokenFor("Plain") } });
await once(plain, "welcome");
const join = await plain.emitWithAck("room:join", "lobby");

const shim = connect(url, { transports: ["websocket"], reconnection: false, token: await tokenFor("Shim") });
await once(shim, "welcome");
const lobby = shim.room("lobby");
const joined = await lobby.join();

const relayed = once(plain, "message");
shim.emit("message", "lobby", "from the shim");

const emitted = Promise.all([once(plain, "headline"), once(shim, "headline")]);
const emitter = new Emitter({ url, apiKey });
const emitResult = await emitter.to("lobby").emit("headline", { headline: "from the emitter" });
const [a, b] = await emitted;

console.log(JSON.stringify({
  plainConnected: plain.connected,
  join,
  shimPresence: joined.ok ? joined.presence : joined,
  relayed: await relayed,
  emitted: a.headline === b.headline ? [a] : [a, b],
  emitResult,
}));
clearTimeout(timeout);
plain.disconnect();
shim.disconnect();
`;

/** `wrangler dev` of the scratch project, with the wrangler installed there. */
async function startApp(cwd: string): Promise<{ url: string; stop(): Promise<void> }> {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const state = mkdtempSync(join(tmpdir(), "edgeio-packages-state-"));
  const args = [join(cwd, "node_modules/wrangler/bin/wrangler.js"), "dev", "--ip", "127.0.0.1", "--port", String(port)];
  args.push("--inspector-port", String(inspectorPort), "--persist-to", state, "--show-interactive-dev-session=false");
  args.push("--var", "ENVIRONMENT:development", "--var", `API_KEYS:${API_KEY}`);
  const child: ChildProcess = spawn(process.execPath, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`wrangler dev did not start in 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready on")) {
        clearTimeout(timer);
        ready();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`wrangler dev exited with ${code}:\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((done) => child.once("exit", done));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((done) => setTimeout(done, 5000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(state, { recursive: true, force: true });
    },
  };
}
