import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
  test: {
    name: "workerd",
    include: ["**/*.test.ts"],
    exclude: ["node/**"],
    testTimeout: 60_000,
    // The workerd route fuzz's numbers of runs (FUZZ_WORKERD_*), when set: workerd's tests see only the variables passed here.
    env: Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith("FUZZ_WORKERD_"))),
  },
});
