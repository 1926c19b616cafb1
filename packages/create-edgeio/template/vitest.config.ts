import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each test file starts `wrangler dev`: give it time, and run files one after another.
    testTimeout: 30_000,
    hookTimeout: 90_000,
    fileParallelism: false,
  },
});
