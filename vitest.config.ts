import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * Three kinds of tests, one command (`npm test`):
 * - workerd: inside the Workers runtime (evictDurableObject, runDurableObjectAlarm, byte-level checks)
 * - e2e:     real socket.io-client in Node against the service started with `wrangler dev`
 * - unit:    pure modules in Node (protocol/ and colocated *.test.ts next to the code)
 * test/security/ holds the attack suite, split the same way (workerd/ and e2e/).
 */
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./examples/echo/wrangler.toml" },
            miniflare: { bindings: { ENVIRONMENT: "test", PING_INTERVAL: 300, PING_TIMEOUT: 200, CONNECT_TIMEOUT: 1000 } },
          }),
        ],
        test: {
          name: "workerd",
          include: ["test/workerd/**/*.test.ts", "test/security/workerd/**/*.test.ts"],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts", "test/security/e2e/**/*.test.ts"],
          // After the in-process projects: the end-to-end files start real services and attack
          // them with control clients, and must not share 2 cores with the workerd project.
          sequence: { groupOrder: 1 },
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "unit",
          sequence: { groupOrder: 0 },
          include: [
            "protocol/**/*.test.ts",
            "app/**/*.test.ts",
            "worker/**/*.test.ts",
            "durable-objects/**/*.test.ts",
            "packages/*/*.test.ts",
            "emitter/test/**/*.test.ts",
          ],
          environment: "node",
        },
      },
    ],
  },
});
