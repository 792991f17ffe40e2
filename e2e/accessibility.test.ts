import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { AxeResults, Result } from "axe-core";
import type { Page } from "playwright-core";
import { expect, it } from "vitest";
import { base, createInstance, pageWithToken, stepRow } from "./harness.ts";

/**
 * axe-core on every view of the dashboard: the workflow list, an instance of a machine, of a code-first class and of
 * a DAG, an opened step, and the trigger, confirm and row's send-event dialogs open; each in the light theme and in
 * the dark one (chromium emulating prefers-color-scheme). Any violation axe rates serious or critical fails the test,
 * printed one per line with the elements it found it on. The rules are axe's defaults (WCAG A and AA and
 * its best practices); moderate and minor findings are not checked here.
 */

// axe's own bundle from node_modules; evaluated in the page through the DevTools protocol, which the page's
// Content-Security-Policy (no inline script) does not govern, so nothing about the page changes to be checked.
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const SERIOUS = new Set(["serious", "critical"]);

/** One violation as a person reads it: what rule, how bad, where, and what axe says to fix. */
function describe(violation: Result): string {
  const nodes = violation.nodes.map((node) => `    at ${node.target.join(" ")}: ${(node.failureSummary ?? "").replaceAll("\n", " ")}`);
  return [`${violation.impact} ${violation.id}: ${violation.help} (${violation.helpUrl})`, ...nodes].join("\n");
}

/** The serious and critical violations axe finds in the page as it stands, described; empty when there are none. */
async function seriousViolations(page: Page): Promise<string> {
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.evaluate(AXE_SOURCE);
  // The whole document, under axe's default rules; only the violations come back.
  const results = await page.evaluate(() => (globalThis as unknown as { axe: { run(options: object): Promise<AxeResults> } }).axe.run({ resultTypes: ["violations"] }));
  return results.violations
    .filter((violation) => SERIOUS.has(violation.impact ?? ""))
    .map(describe)
    .join("\n");
}

/** The page as it stands, in both themes: the dashboard follows the system's, so each must pass on its own. */
async function expectAccessible(page: Page, view: string): Promise<void> {
  for (const colorScheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme });
    expect(await seriousViolations(page), `serious or critical axe violations on ${view}, ${colorScheme} theme`).toBe("");
  }
}

const api = (path: string, init: RequestInit = {}) => fetch(`${base()}/api${path}`, { ...init, headers: { authorization: "Bearer test-token", "content-type": "application/json" } });

/** A page at one of the dashboard's URLs, once what `ready` names is drawn. */
async function open(path: string, ready: string): Promise<Page> {
  const page = await pageWithToken();
  await page.goto(`${base()}${path}`);
  await page.waitForSelector(ready);
  return page;
}

it("the workflow list, with a badge of each settled status, has no serious accessibility violation", async () => {
  const approve = (id: string) => api(`/workflows/booking/instances/${id}/events`, { method: "POST", body: JSON.stringify({ type: "approve", payload: { by: "Ada" } }) });
  const act = (id: string, action: string) => api(`/workflows/booking/instances/${id}/${action}`, { method: "POST", body: "{}" });
  await createInstance("booking", { id: "listed-complete", params: {} });
  await createInstance("booking", { id: "listed-errored", params: { fail: true } });
  await createInstance("booking", { id: "listed-paused", params: {} });
  await createInstance("booking", { id: "listed-terminated", params: {} });
  await createInstance("booking", { id: "listed-waiting", params: {} });
  // Each waits for its approval before it can be approved: the events wait for the instance, so they can be sent now.
  for (const response of [await approve("listed-complete"), await approve("listed-errored"), await act("listed-paused", "pause"), await act("listed-terminated", "terminate")]) expect(response.status).toBeLessThan(300);
  const page = await open("/workflows/booking", "#instances tr.row[data-id='listed-complete'] .status.complete");
  for (const [id, status] of [["listed-errored", "errored"], ["listed-paused", "paused"], ["listed-terminated", "terminated"], ["listed-waiting", "waiting"]]) {
    await page.waitForSelector(`#instances tr.row[data-id='${id}'] .status.${status}`);
  }
  await expectAccessible(page, "the workflow list");
  await page.close();
});

it("a machine instance's page (statechart, time travel, timeline, log) has no serious accessibility violation", async () => {
  await createInstance("gated", { id: "a11y-machine", params: { instance: "a11y-machine" } });
  const page = await open("/workflows/gated/instances/a11y-machine", "#diagram svg g.node.active[data-id='state:approval']");
  await page.waitForSelector('#timeline li[data-kind="attempt"]');
  await page.waitForSelector("#travel-seq");
  await expectAccessible(page, "a machine instance");
  await page.close();
});

it("a code-first instance's page, errored after its rollbacks, has no serious accessibility violation", async () => {
  await createInstance("booking", { id: "a11y-class", params: { fail: true } });
  const page = await open("/workflows/booking/instances/a11y-class", `${stepRow("waitForEvent:approval-1")} >> text=waiting`);
  expect((await api("/workflows/booking/instances/a11y-class/events", { method: "POST", body: JSON.stringify({ type: "approve", payload: { by: "Ada" } }) })).status).toBe(202);
  await page.waitForSelector(stepRow("rollback:do:reserve seat-1"));
  await page.waitForSelector("#error");
  await expectAccessible(page, "a code-first instance");
  await page.close();
});

it("a DAG instance's page (task graph, map progress) has no serious accessibility violation", async () => {
  await createInstance("dag-fanout", { id: "a11y-dag", params: { instance: "a11y-dag" } });
  const page = await open("/workflows/dag-fanout/instances/a11y-dag", "#diagram svg g.node[data-id='task:join'].done");
  await page.waitForSelector('#map-progress li[data-task="upper"]');
  await expectAccessible(page, "a DAG instance");
  await page.close();
});

it("an opened step (attempts, config, output) has no serious accessibility violation", async () => {
  await createInstance("booking", { id: "a11y-step", params: {} });
  const page = await open(`/workflows/booking/instances/a11y-step/steps/${encodeURIComponent("do:reserve seat-1")}`, '#steps tr.step-detail[data-key="do:reserve seat-1"] pre.output');
  await expectAccessible(page, "an opened step");
  await page.close();
});

it("the trigger dialog, open, has no serious accessibility violation", async () => {
  const page = await open("/workflows/gated", "#counts .count");
  await page.click("#trigger-open");
  await page.waitForSelector("#trigger[open]");
  await expectAccessible(page, "the trigger dialog");
  await page.close();
});

it("the confirm dialog, open, has no serious accessibility violation", async () => {
  await createInstance("booking", { id: "a11y-confirm", params: {} });
  const page = await open("/workflows/booking/instances/a11y-confirm", `${stepRow("waitForEvent:approval-1")} >> text=waiting`);
  await page.click("#detail [data-action='terminate']");
  await page.waitForSelector("#confirm[open]");
  await expectAccessible(page, "the confirm dialog (terminate, with its rollback option)");
  await page.close();
});

it("the send-event dialog of a row of the list, open, has no serious accessibility violation", async () => {
  await createInstance("booking", { id: "a11y-row-event", params: {} });
  const page = await open("/workflows/booking", "#instances tr.row[data-id='a11y-row-event'] .status.waiting");
  await page.click("#instances tr.row[data-id='a11y-row-event'] button[data-row-action='send-event']");
  await page.waitForSelector("#event-dialog[open]");
  await expectAccessible(page, "the send-event dialog of a row");
  await page.close();
});
