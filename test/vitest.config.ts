import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
  test: {
    name: "workerd",
    include: ["**/*.test.ts"],
    exclude: ["node/**"],
    testTimeout: 60_000,
  },
});
