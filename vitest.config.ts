import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["core/**/*.test.ts", "runtime/**/*.test.ts", "adapters/memory/**/*.test.ts", "machines/**/*.test.ts", "property-tests/**/*.test.ts"],
    testTimeout: 120_000,
  },
});
