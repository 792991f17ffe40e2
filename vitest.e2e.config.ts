import { defineConfig } from "vitest/config";

/** `npm run test:e2e`: the dashboard in Debian's chromium; needs /usr/bin/chromium (CI installs it). */
export default defineConfig({
  test: {
    name: "e2e",
    include: ["e2e/**/*.test.ts"],
    // Each file starts its own workerd and chromium (e2e/harness.ts); two at once on a 2-core machine starve each other's timers.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
