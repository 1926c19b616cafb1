/**
 * Browser test helpers: Debian's Chromium driven by playwright-core (no browser download), and
 * the client-shim bundle the demo loads (built by the test so CI needs nothing but `npm ci`).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

const ROOT = resolve(import.meta.dirname, "../..");
export const RESULTS_DIR = resolve(ROOT, "test-results");

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * playwright-core gives every launch a fresh temporary profile (`--user-data-dir`, removed on
 * close) and refuses that flag in `args`; each `browser.newContext()` is a separate profile
 * with its own localStorage, i.e. a separate "device".
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Builds client-shim into public/edgeio-client.js (the IIFE the demo page loads). */
export function buildClientBundle(): void {
  execFileSync(process.execPath, [resolve(ROOT, "client-shim/build.mjs"), "--no-types"], { cwd: ROOT, stdio: "inherit" });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = resolve(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Collects what the page logs and throws, for a useful failure message. */
export function pageLog(page: Page): string[] {
  const lines: string[] = [];
  page.on("console", (message) => lines.push(`[${message.type()}] ${message.text()}`));
  page.on("pageerror", (error) => lines.push(`[pageerror] ${error.message}`));
  return lines;
}

type Shim = typeof import("../../client-shim/src/index");
declare global {
  interface Window {
    /** The client-shim IIFE bundle's global. */
    EdgeIO: Shim;
    /** What the demo page exposes for debugging (and for these tests). */
    demo: { socket: import("../../client-shim/src/index").EdgeSocket; room: import("../../client-shim/src/index").Room };
  }
}
