import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { unstable_dev } from "wrangler";

/**
 * The dashboard in a real browser: Debian's chromium driven by
 * playwright-core, against the test Worker under `wrangler dev`.
 */
let worker: Awaited<ReturnType<typeof unstable_dev>>;
let browser: Browser;
const persistTo = mkdtempSync(join(tmpdir(), "dm-e2e-"));

beforeAll(async () => {
  process.env.WRANGLER_SEND_METRICS = "false";
  worker = await unstable_dev(new URL("../test/worker.ts", import.meta.url).pathname, {
    config: new URL("../test/wrangler.toml", import.meta.url).pathname,
    persistTo,
    logLevel: "error",
    experimental: { disableExperimentalWarning: true },
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  rmSync(persistTo, { recursive: true, force: true });
});

it("creates an instance, shows its steps finish, sends an event from the form and shows the new state", async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`http://${worker.address}:${worker.port}/`);
  await page.fill("#token", "test-token");
  await page.dispatchEvent("#token", "change");
  await page.waitForSelector("#workflow option:text-is('gated')", { state: "attached" });
  await page.selectOption("#workflow", "gated");

  await page.fill("#new-id", "from-the-browser");
  await page.fill("#new-params", '{"instance":"from-the-browser"}');
  await page.click("#create");

  await page.waitForSelector("#timeline >> text=step 0.gated.a#1 succeeded");
  await page.waitForSelector("#timeline >> text=step 0.gated.c#1 succeeded");
  await page.waitForSelector('.state.active[data-state="approval"]');
  expect(await page.textContent("#detail-status")).toBe("waiting");

  await page.fill("#event-type", "approve");
  await page.fill("#event-payload", '"from the browser"');
  await page.click("#send-event");

  await page.waitForSelector('.state.active[data-state="done"]');
  await page.waitForSelector("#detail-status:text-is('complete')");
  expect(await page.textContent("#output")).toContain("from the browser");
  expect(await page.locator("#timeline >> text=event approve").count()).toBe(1);
  await page.waitForSelector("#instances tr.row[data-id='from-the-browser'] .status.complete");
  await page.screenshot({ path: new URL("../docs/dashboard.png", import.meta.url).pathname });
});
