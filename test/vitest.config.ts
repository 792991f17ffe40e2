import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
  test: {
    name: "workerd",
    include: ["**/*.test.ts"],
    exclude: ["node/**"],
    testTimeout: 60_000,
    // The workerd route fuzz's number of runs, when set: workerd's tests see only the variables passed here.
    env: process.env.FUZZ_WORKERD_RUNS ? { FUZZ_WORKERD_RUNS: process.env.FUZZ_WORKERD_RUNS } : {},
  },
});
