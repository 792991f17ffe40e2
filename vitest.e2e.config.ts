import { defineConfig } from "vitest/config";

/** `npm run test:e2e`: the dashboard in Debian's chromium; needs /usr/bin/chromium (CI installs it). */
export default defineConfig({
  test: {
    name: "e2e",
    include: ["e2e/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
