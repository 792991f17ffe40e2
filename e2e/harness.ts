import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { unstable_dev } from "wrangler";
import { launchChromium } from "./chromium.ts";

/**
 * What every e2e file shares: the test Worker under `wrangler dev` and
 * Debian's chromium driven by playwright-core, started once per file, and
 * the page helpers the tests drive the dashboard with. Importing this file
 * registers the hooks that start and stop both.
 */
export let worker: Awaited<ReturnType<typeof unstable_dev>>;
export let browser: Browser;
const persistTo = mkdtempSync(join(tmpdir(), "dm-e2e-"));

beforeAll(async () => {
  process.env.WRANGLER_SEND_METRICS = "false";
  worker = await unstable_dev(new URL("../test/worker.ts", import.meta.url).pathname, {
    config: new URL("../test/wrangler.toml", import.meta.url).pathname,
    persistTo,
    // Nothing moves the clock here, so the DAGs' retries (a minute in the workerd tests) must come in real time.
    vars: { DAG_RETRY_DELAY_MS: "1000" },
    logLevel: "error",
    experimental: { disableExperimentalWarning: true },
  });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  rmSync(persistTo, { recursive: true, force: true });
});

/** What the page's Content-Security-Policy refused, from every page a test opened: each test must end with none. */
let violations: string[] = [];

/** Forgets the violations seen so far: for a test that provokes them on purpose and has checked them. */
export function forgetViolations(): void {
  violations = [];
}

/** Whether a violation whose text matches has been seen. */
export const violationSeen = (test: (text: string) => boolean): boolean => violations.some(test);

afterEach(() => {
  const seen = violations;
  violations = [];
  expect(seen, "Content-Security-Policy violations").toEqual([]);
});

/** A page that reports CSP violations, both as the document's securitypolicyviolation events and as chromium's console errors. */
export async function watchedPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  await page.exposeFunction("reportViolation", (text: string) => void violations.push(text));
  await page.addInitScript({ content: 'document.addEventListener("securitypolicyviolation", (event) => window.reportViolation(event.effectiveDirective + " refused " + event.blockedURI));' });
  page.on("console", (message) => {
    if (message.type() === "error" && /Content.Security.Policy/i.test(message.text())) violations.push(message.text());
  });
  return page;
}

export async function openDashboard(workflow: string): Promise<Page> {
  const page = await watchedPage();
  await page.goto(`http://${worker.address}:${worker.port}/`);
  await page.fill("#token", "test-token");
  await page.dispatchEvent("#token", "change");
  await page.waitForSelector(`#workflow option:text-is('${workflow}')`, { state: "attached" });
  await page.selectOption("#workflow", workflow);
  await page.waitForSelector("#counts .count");
  return page;
}

export async function trigger(page: Page, id: string, params: string): Promise<void> {
  await page.click("#trigger-open");
  await page.fill("#trigger-id", id);
  await page.fill("#trigger-params", params);
  await page.click("#trigger-submit");
  await page.waitForSelector("#trigger", { state: "hidden" });
  await page.waitForSelector(`#detail-id:text-is('${id}')`);
}

export async function confirm(page: Page, expectedText: string, rollback = false): Promise<void> {
  await page.waitForSelector("#confirm[open]");
  expect(await page.textContent("#confirm-text")).toContain(expectedText);
  if (rollback) await page.check("#confirm-rollback");
  await page.click("#confirm-ok");
  await page.waitForSelector("#confirm", { state: "hidden" });
}

/** The keys of the step history's rows, top to bottom. */
export const stepKeys = async (page: Page) => Promise.all((await page.locator("#steps tr.step").all()).map((row) => row.getAttribute("data-key")));
export const stepRow = (key: string) => `#steps tr.step[data-key="${key}"]`;
export const countOf = (page: Page, status: string) => page.textContent(`#counts .count[data-status="${status}"] .n`);
/** The lit states with no lit state inside them, by id ("state:" is the machine itself, "state:a.b" a state). */
export const litLeaves = async (page: Page) => {
  const ids = await page.locator("#diagram svg g.node.active").evaluateAll((nodes) => nodes.map((node) => node.getAttribute("data-id") ?? ""));
  return ids.filter((id) => id !== "state:" && !ids.some((other) => other.startsWith(`${id}.`)));
};
/** The diagram's viewBox as numbers. */
export const viewBox = async (page: Page) => ((await page.getAttribute("#diagram svg", "viewBox")) ?? "").split(" ").map(Number);
/** A state of the statechart (dashboard/diagram's SVG), lit. */
export const litState = (path: string) => `#diagram svg g.node.active[data-id="state:${path}"]`;

export const base = () => `http://${worker.address}:${worker.port}`;

/** A page that already holds the token, as a returning user's browser does: it opens any view's URL directly. */
export async function pageWithToken(viewport = { width: 1500, height: 1000 }): Promise<Page> {
  const page = await watchedPage();
  await page.setViewportSize(viewport);
  await page.addInitScript({ content: 'localStorage.setItem("dm-token", "test-token");' });
  return page;
}

export async function createInstance(workflow: string, body: { id?: string; params?: unknown }): Promise<string> {
  const response = await fetch(`${base()}/api/workflows/${workflow}/instances`, { method: "POST", headers: { authorization: "Bearer test-token", "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}
