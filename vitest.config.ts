import { defineConfig } from "vitest/config";

const alias = {
  // Before the main entry: an alias also matches what starts with its name and a slash.
  "durable-machines/testing": new URL("./testing.ts", import.meta.url).pathname,
  "durable-machines": new URL("./index.ts", import.meta.url).pathname,
};

/** Two projects: the pure core, runtime and memory host in Node; the Durable Object host inside workerd. */
export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "node",
          include: ["core/**/*.test.ts", "runtime/**/*.test.ts", "adapters/memory/**/*.test.ts", "machines/**/*.test.ts", "property-tests/**/*.test.ts", "test/node/**/*.test.ts", "adapters/worker/api/**/*.test.ts", "cli/tests/**/*.test.ts", "testing/tests/**/*.test.ts", "dashboard/**/*.test.ts"],
          testTimeout: 120_000,
        },
      },
      "test/vitest.config.ts",
    ],
  },
});
