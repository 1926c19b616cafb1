#!/usr/bin/env node
/**
 * `npm run deploy`: an orderly redeploy. First tells every client of the running deployment
 * `server:shutdown { reconnect_delay_ms }` (POST /v1/shutdown), then runs `wrangler deploy`.
 *
 *   EDGEIO_URL=https://edgeio.example.workers.dev EDGEIO_API_KEY=… npm run deploy
 *   npm run deploy -- --no-deploy                  only the shutdown call (try it against `wrangler dev`)
 *   npm run deploy -- --delay 20000 --jitter 5000  the delays clients are told (ms)
 *   npm run deploy -- --skip-shutdown              the first deploy: nothing is running yet
 *   npm run deploy -- -- --env staging             everything after a second `--` goes to `wrangler deploy`
 *
 * EDGEIO_API_KEY must be one of the deployment's API_KEYS (an API_READ_KEYS key gets 403).
 * Exits non-zero, without deploying, when the shutdown call fails (use --skip-shutdown to deploy anyway).
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

const usage = "usage: deploy.mjs [--no-deploy|--dry-run] [--skip-shutdown] [--delay <ms>] [--jitter <ms>] [-- <wrangler deploy args>]";

function fail(message, code = 2) {
  console.error(`deploy: ${message}`);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      "no-deploy": { type: "boolean", default: false },
      "dry-run": { type: "boolean", default: false },
      "skip-shutdown": { type: "boolean", default: false },
      delay: { type: "string", default: process.env.EDGEIO_RECONNECT_DELAY_MS ?? "10000" },
      jitter: { type: "string", default: process.env.EDGEIO_JITTER_MS ?? "0" },
      help: { type: "boolean", default: false },
    },
  });
} catch (error) {
  fail(`${error.message}\n${usage}`);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const deploy = !values["no-deploy"] && !values["dry-run"];

function milliseconds(name, text) {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 600_000) fail(`--${name} must be a whole number of milliseconds from 0 to 600000, got "${text}"`);
  return value;
}

async function announceShutdown() {
  const url = process.env.EDGEIO_URL;
  const key = process.env.EDGEIO_API_KEY;
  const missing = [
    !url && "EDGEIO_URL (the running deployment, e.g. https://edgeio.example.workers.dev)",
    !key && "EDGEIO_API_KEY (one of its API_KEYS)",
  ].filter(Boolean);
  if (missing.length > 0) fail(`set ${missing.join(" and ")}, or pass --skip-shutdown when nothing is running yet`);
  let endpoint;
  try {
    endpoint = new URL("/v1/shutdown", url);
  } catch {
    fail(`EDGEIO_URL is not a URL: "${url}"`);
  }
  const body = { reconnect_delay_ms: milliseconds("delay", values.delay), jitter_ms: milliseconds("jitter", values.jitter) };
  let response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    fail(`POST ${endpoint} failed: ${error.cause?.message ?? error.message} (not deploying; --skip-shutdown deploys anyway)`, 1);
  }
  const text = await response.text();
  if (!response.ok) fail(`POST ${endpoint} answered ${response.status}: ${text} (not deploying; --skip-shutdown deploys anyway)`, 1);
  let result;
  try {
    result = JSON.parse(text);
  } catch {
    fail(`POST ${endpoint} did not answer JSON (is EDGEIO_URL an edgeio deployment?): ${text.slice(0, 200)}`, 1);
  }
  console.log(
    `deploy: server:shutdown sent to ${result.sockets} socket(s) on ${result.hosts} host(s); ` +
      `reconnect_delay_ms ${result.reconnect_delay_ms} + up to ${result.jitter_ms} ms jitter; ${result.failed} host(s) failed`,
  );
  for (const failure of result.failures ?? []) console.warn(`deploy: host ${failure.host} was not told: ${failure.error}`);
}

if (!values["skip-shutdown"]) await announceShutdown();
if (!deploy) {
  console.log("deploy: --no-deploy: not running wrangler deploy");
  process.exit(0);
}
const wrangler = resolve(import.meta.dirname, "../node_modules/wrangler/bin/wrangler.js");
const run = spawnSync(process.execPath, [wrangler, "deploy", ...positionals], {
  stdio: "inherit",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
});
if (run.error) fail(`could not run wrangler: ${run.error.message}`, 1);
process.exit(run.status ?? 1);
