import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "durable-machines": new URL("./index.ts", import.meta.url).pathname } },
  test: {
    include: ["core/**/*.test.ts", "runtime/**/*.test.ts", "adapters/memory/**/*.test.ts", "machines/**/*.test.ts", "property-tests/**/*.test.ts"],
    testTimeout: 120_000,
  },
});
