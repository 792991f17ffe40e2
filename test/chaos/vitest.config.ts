import { defineConfig } from "vitest/config";

/** `npm run test:chaos`: the chaos suite (test/chaos/chaos.run.ts) alone, printing as it goes. */
export default defineConfig({
  test: {
    name: "chaos",
    root: new URL("../..", import.meta.url).pathname,
    include: ["test/chaos/chaos.run.ts"],
    testTimeout: 15 * 60_000,
    hookTimeout: 60_000,
    disableConsoleIntercept: true,
  },
});
