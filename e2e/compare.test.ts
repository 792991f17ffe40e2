import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bundleWorker, startWorker, type StartedWorker } from "../scripts/workerd.ts";
import { launchChromium } from "./chromium.ts";

/**
 * Cloudflare's local explorer beside our dashboard, on the same instances. One workerd (through Miniflare's API, with
 * the explorer turned on) runs e2e/compare/worker.ts: the "lab" workflow's one body under Cloudflare's local engine
 * and under ours, with the same instance ids. The tests check both show the same instances with the statuses each
 * engine reports, that every feature the explorer has is on our pages (a selector each), that ours follows a change
 * live, and write docs/compare-*.png: the explorer on the left, ours on the right, for docs/dashboard-vs-explorer.md.
 */

const root = fileURLToPath(new URL("..", import.meta.url));
const TOKEN = "compare-token";
const VIEWPORT = { width: 1280, height: 900 };
let worker: StartedWorker;
let browser: Browser;
let removeBundle: () => void;
const persistTo = mkdtempSync(join(tmpdir(), "dm-compare-"));

/**
 * The kinds of instance, each made on both engines: what its body does, what the test does to it next, and the
 * status each engine then reports. Cloudflare's local engine says "running" while a run sleeps or waits for an
 * event, where ours says "waiting" (as Cloudflare's deployed engine does).
 */
const UUID = crypto.randomUUID();
const KINDS = [
  { id: "complete", scenario: "complete", ours: "complete", theirs: "complete" },
  { id: "retries-exhausted", scenario: "retries", ours: "errored", theirs: "errored" },
  { id: "sleeping", scenario: "sleeping", ours: "waiting", theirs: "running" },
  { id: "waiting-for-event", scenario: "waiting", ours: "waiting", theirs: "running" },
  { id: "rolled-back", scenario: "rollback", ours: "errored", theirs: "errored" },
  { id: "paused", scenario: "waiting", then: "pause", ours: "paused", theirs: "paused" },
  { id: "terminated", scenario: "waiting", then: "terminate", ours: "terminated", theirs: "terminated" },
  { id: UUID, scenario: "complete", ours: "complete", theirs: "complete" },
] as const;

type Engine = "theirs" | "ours";
interface EngineStatus {
  status: string;
  /** Cloudflare's local engine: the outputs of the steps done so far. */
  __LOCAL_DEV_STEP_OUTPUTS?: unknown[];
}

async function control(engine: Engine, id: string, action?: string, body: unknown = {}): Promise<EngineStatus> {
  const path = `/control/${engine}/${encodeURIComponent(id)}${action ? `/${action}` : ""}`;
  const response = await worker.fetch(path, action ? { method: "POST", body: JSON.stringify(body) } : {});
  const answer = (await response.json()) as EngineStatus & { error?: string };
  if (!response.ok) throw new Error(`${engine} ${action ?? "status"} ${id}: ${answer.error}`);
  return answer;
}

/** Reads an instance's status until `done` holds, a few times a second, for at most 30 s. */
async function until(engine: Engine, id: string, done: (status: EngineStatus) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last: EngineStatus | undefined;
  while (Date.now() < deadline) {
    last = await control(engine, id);
    if (done(last)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${engine} ${id} never got ${what}; last: ${JSON.stringify(last)}`);
}

/** Settled in its wait: ours says waiting; Cloudflare's says running throughout, so its first step's output tells. */
const settledInWait = (engine: Engine) => (status: EngineStatus) => (engine === "ours" ? status.status === "waiting" : (status.__LOCAL_DEV_STEP_OUTPUTS?.length ?? 0) >= 1);

beforeAll(async () => {
  process.env.WRANGLER_SEND_METRICS = "false";
  const bundle = await bundleWorker(root, "e2e/compare/worker.ts");
  removeBundle = bundle.remove;
  worker = await startWorker(bundle.scriptPath, { root, config: "e2e/compare/wrangler.toml", persistTo, vars: { API_TOKEN: TOKEN }, localExplorer: true });
  browser = await launchChromium();
  for (const engine of ["theirs", "ours"] as const) {
    for (const kind of KINDS) await control(engine, kind.id, "create", { scenario: kind.scenario });
    for (const kind of KINDS) {
      if (!("then" in kind)) continue;
      await until(engine, kind.id, settledInWait(engine), "to its wait");
      await control(engine, kind.id, kind.then);
    }
    for (const kind of KINDS) {
      const expected: string = kind[engine];
      const waits = expected === "running" || expected === "waiting";
      await until(engine, kind.id, (status) => status.status === expected && (!waits || settledInWait(engine)(status)), expected);
    }
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  removeBundle?.();
  rmSync(persistTo, { recursive: true, force: true });
});

const EXPLORER = "/cdn-cgi/local/explorer/workflows/lab";

async function explorerPage(path: string, ready: string): Promise<Page> {
  const page = await browser.newPage({ viewport: VIEWPORT });
  await page.goto(new URL(path, worker.url).href);
  await page.waitForSelector(ready);
  return page;
}

async function ourPage(path: string, ready: string): Promise<Page> {
  const page = await browser.newPage({ viewport: VIEWPORT });
  await page.addInitScript({ content: `localStorage.setItem("dm-token", ${JSON.stringify(TOKEN)});` });
  await page.goto(new URL(path, worker.url).href);
  await page.waitForSelector(ready);
  return page;
}

/** The explorer's instance rows, id → status as its badge says it (lower case). */
const explorerRows = async (page: Page) =>
  Object.fromEntries(
    await page
      .locator("main div.grid.cursor-pointer")
      .evaluateAll((rows) => rows.map((row) => [row.querySelector("span.font-mono")?.textContent ?? "", (row.querySelector("span.rounded-full")?.textContent ?? "").toLowerCase()])),
  );
/** The explorer's counts, status (lower case) → number. */
const explorerCounts = async (page: Page) =>
  Object.fromEntries(
    await page.locator("main div.flex-1.space-y-1").evaluateAll((cards) => cards.map((card) => [(card.children[0]?.textContent ?? "").toLowerCase(), Number(card.children[1]?.textContent)])),
  );

/** Our rows, id → status (the badge's class, the API's name for it). */
const ourRows = async (page: Page) =>
  Object.fromEntries(await page.locator("#instances tr.row").evaluateAll((rows) => rows.map((row) => [row.getAttribute("data-id") ?? "", row.querySelector(".status")?.classList[1] ?? ""])));
const ourCounts = async (page: Page) =>
  Object.fromEntries(await page.locator("#counts .count").evaluateAll((cards) => cards.map((card) => [card.getAttribute("data-status") ?? "", Number(card.querySelector(".n")?.textContent)])));

/**
 * Our page whole, as tall as its document: a viewport that tall rather than a full-page screenshot, which captures
 * past the viewport without laying it out, so rows drawn only in view (the timeline's content-visibility) came out blank.
 */
async function wholePage(page: Page): Promise<Buffer> {
  await page.setViewportSize({ width: VIEWPORT.width, height: await page.evaluate("document.documentElement.scrollHeight") });
  // Two frames: the resized page laid out and painted.
  await page.evaluate("new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))");
  return page.screenshot();
}

/** The screenshots side by side in one image, each under its caption: an HTML page rendered by the same chromium. */
async function sideBySide(name: string, left: { caption: string; png: Buffer }, right: { caption: string; png: Buffer }): Promise<void> {
  const page = await browser.newPage({ viewport: { width: 2 * 960 + 48, height: 400 } });
  const figure = ({ caption, png }: { caption: string; png: Buffer }) =>
    `<figure><figcaption>${caption}</figcaption><img alt="${caption}" src="data:image/png;base64,${png.toString("base64")}"></figure>`;
  await page.setContent(
    `<!doctype html><style>body{margin:0;padding:16px;display:flex;gap:16px;align-items:flex-start;background:#dee2e6;font:600 18px system-ui,sans-serif}figure{margin:0;width:960px}figcaption{margin-bottom:8px}img{display:block;width:960px;border:1px solid #adb5bd}</style>${figure(left)}${figure(right)}`,
  );
  await page.screenshot({ path: fileURLToPath(new URL(`../docs/${name}`, import.meta.url)), fullPage: true });
  await page.close();
}

const WRANGLER_VERSION = (JSON.parse(readFileSync(new URL("../node_modules/wrangler/package.json", import.meta.url), "utf8")) as { version: string }).version;
const EXPLORER_CAPTION = `Cloudflare's local explorer (wrangler ${WRANGLER_VERSION})`;
const OURS_CAPTION = "durable-machines' dashboard";

it("lists the same instances with each engine's status, and the same counts, in the explorer and in ours", async () => {
  const explorer = await explorerPage(EXPLORER, `main span.font-mono:text-is("${UUID}")`);
  const ours = await ourPage("/workflows/lab", `#instances tr.row[data-id="${UUID}"]`);
  const expected = (engine: Engine) => Object.fromEntries(KINDS.map((kind) => [kind.id, kind[engine]]));
  expect(await explorerRows(explorer)).toEqual(expected("theirs"));
  expect(await ourRows(ours)).toEqual(expected("ours"));

  const tally = (engine: Engine) => KINDS.reduce<Record<string, number>>((counts, kind) => ({ ...counts, [kind[engine]]: (counts[kind[engine]] ?? 0) + 1 }), {});
  const nonZero = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
  expect(nonZero(await explorerCounts(explorer))).toEqual(tally("theirs"));
  expect(nonZero(await ourCounts(ours))).toEqual(tally("ours"));

  // A UUID is cut in our list (the whole id on hover); the explorer shows it whole.
  const uuidCell = ours.locator(`#instances tr.row[data-id="${UUID}"] .id-text`);
  expect(await uuidCell.getAttribute("title")).toBe(UUID);
  expect((await uuidCell.textContent())!.length).toBeLessThan(UUID.length);
  // Both say where the list stands, from the same total.
  await explorer.waitForSelector(`text=/Showing 1.${KINDS.length} of ${KINDS.length}/`);
  expect(await ours.textContent("#showing")).toBe(`Showing 1–${KINDS.length} of ${KINDS.length}`);

  await sideBySide("compare-list.png", { caption: EXPLORER_CAPTION, png: await explorer.screenshot() }, { caption: OURS_CAPTION, png: await ours.screenshot() });
  await explorer.close();
  await ours.close();
});

/**
 * What the explorer offers for a workflow's instances and for one instance, then what ours adds: each selector must be
 * on our page. docs/dashboard-vs-explorer.md's tables say the same in words, beside what the explorer does.
 */
const LIST_FEATURES: Record<string, string | string[]> = {
  "counts per status": '#counts .count[data-status="errored"]',
  "filter by status": "#filter",
  "trigger with an id and params": ["#trigger-open", "#trigger #trigger-id", "#trigger #trigger-params"],
  refresh: "#refresh",
  "delete all": "#delete-all",
  "pause and terminate from the row": ['#instances tr.row[data-id="waiting-for-event"] button[data-row-action="pause"]', '#instances tr.row[data-id="waiting-for-event"] button[data-row-action="terminate"]'],
  "resume from the row": '#instances tr.row[data-id="paused"] button[data-row-action="resume"]',
  "restart and delete from the row": ['#instances tr.row[data-id="complete"] button[data-row-action="restart"]', '#instances tr.row[data-id="complete"] button[data-row-action="delete"]'],
  "relative start time": "#instances tr.row time.relative",
  "send an event from the row": '#instances tr.row[data-id="waiting-for-event"] button[data-row-action="send-event"]',
  "the next page, when there is one": "#more",
  "a page size": "#page-size",
  "which rows of how many are shown": '#showing:has-text("Showing 1–")',
  // Ours only:
  "full date on hover": "#instances tr.row time[title]",
  "copy an id from the row": "#instances tr.row button.copy",
  duration: "#instances tr.row td.wide-only",
};
/** On the sleeping instance's page: when its sleep ends. */
const SLEEP_FEATURES: Record<string, string | string[]> = {
  "when a sleep wakes, the full date with the relative one on hover": '#steps tr.step[data-kind="sleep"] .due.wake:has-text("wakes at") time[title]',
};
const INSTANCE_FEATURES: Record<string, string | string[]> = {
  "pause, resume, terminate, restart, delete": ["pause", "resume", "terminate", "restart", "delete"].map((action) => `#detail [data-action="${action}"]`),
  "send an event": ["#event-type", "#event-payload", "#send-event"],
  "status, steps completed, duration": "#summary",
  "params and output, each with a copy button": ["#io .block:has(#params) button.copy", "#io .block:has(#output) pre"],
  "the error, with a copy button": "#io .block:has(#error) button.copy",
  "search the steps": "#step-search",
  "filter the steps by kind": "#step-kind",
  "each step's start, end and duration": "#steps tr.step time[title]",
  "restart from a step": "#steps tr.step button.restart-from",
  "a step's attempts with their errors, its config and output": ['#steps tr.step-detail table.attempts td.error:has-text("503")', "#steps tr.step-detail pre.config", "#steps tr.step-detail pre.output"],
  // Ours only:
  "the whole log": "#log-records [data-seq]",
  diagram: "#diagram svg",
  timeline: '#timeline li[data-kind="attempt"]',
  "time travel": "#travel-seq",
};

/** The features of a checklist whose selectors are not all on the page, each with the ones missing. */
async function missingFeatures(page: Page, where: string, features: Record<string, string | string[]>): Promise<string[]> {
  const missing: string[] = [];
  for (const [feature, selectors] of Object.entries(features)) {
    const absent: string[] = [];
    for (const selector of [selectors].flat()) if (!(await page.locator(selector).count())) absent.push(selector);
    if (absent.length) missing.push(`${where}: ${feature} (${absent.join(", ")})`);
  }
  return missing;
}

it("has on our pages every feature the explorer has, and more", async () => {
  const list = await ourPage("/workflows/lab", '#instances tr.row[data-id="complete"]');
  const missing = await missingFeatures(list, "list", LIST_FEATURES);
  await list.close();

  const instance = await ourPage(`/workflows/lab/instances/retries-exhausted/steps/${encodeURIComponent("do:call flaky api-1")}`, "#steps tr.step-detail table.attempts");
  await instance.waitForSelector('#timeline li[data-kind="attempt"]');
  missing.push(...(await missingFeatures(instance, "instance", INSTANCE_FEATURES)));
  await instance.close();

  const sleeping = await ourPage("/workflows/lab/instances/sleeping", '#steps tr.step[data-kind="sleep"]');
  missing.push(...(await missingFeatures(sleeping, "sleeping instance", SLEEP_FEATURES)));
  await sleeping.close();
  expect(missing).toEqual([]);
});

it("shows an instance as the explorer does, with its attempts, and the rollbacks the explorer leaves out", async () => {
  const explorer = await explorerPage(`${EXPLORER}/retries-exhausted`, "text=call flaky api");
  await explorer.click("text=call flaky api");
  await explorer.waitForSelector("text=Attempts");
  const ours = await ourPage(`/workflows/lab/instances/retries-exhausted/steps/${encodeURIComponent("do:call flaky api-1")}`, "#steps tr.step-detail table.attempts");
  expect(await ours.locator("#steps tr.step-detail table.attempts tbody tr").count()).toBe(3);
  await ours.waitForSelector('#timeline li[data-kind="attempt"]');
  await sideBySide("compare-instance.png", { caption: EXPLORER_CAPTION, png: await explorer.screenshot() }, { caption: OURS_CAPTION, png: await wholePage(ours) });
  await explorer.close();
  await ours.close();

  // Both engines ran the two compensations; ours lists them as steps of their own, newest first, and draws them on the timeline.
  const explorerRolled = await explorerPage(`${EXPLORER}/rolled-back`, "text=ship");
  const oursRolled = await ourPage("/workflows/lab/instances/rolled-back", '#steps tr.step[data-kind="rollback"]');
  expect(await oursRolled.locator('#steps tr.step[data-kind="rollback"] td.name').allTextContents()).toEqual([expect.stringContaining("reserve seat"), expect.stringContaining("charge card")]);
  await oursRolled.waitForSelector('#timeline li[data-kind="attempt"]');
  // Its diagram draws the run as it went: the steps in a chain to the failure, then the two compensations, each a box of its own.
  await oursRolled.waitForSelector('#diagram svg g.node[data-id="task:rollback:do:reserve seat-1"]');
  const arrows = await oursRolled
    .locator("#diagram svg g.edge")
    .evaluateAll((edges) => edges.map((edge) => `${edge.getAttribute("data-source")?.replace("task:", "")}→${edge.getAttribute("data-target")?.replace("task:", "")}`));
  expect(arrows.sort()).toEqual([
    "do:charge card-1→do:ship-1",
    "do:load order-1→do:reserve seat-1",
    "do:reserve seat-1→do:charge card-1",
    "do:ship-1→rollback:do:charge card-1",
    "rollback:do:charge card-1→rollback:do:reserve seat-1",
  ]);
  await sideBySide("compare-rollback.png", { caption: EXPLORER_CAPTION, png: await explorerRolled.screenshot() }, { caption: OURS_CAPTION, png: await wholePage(oursRolled) });
  await explorerRolled.close();
  await oursRolled.close();
});

it("follows a change live: an event sent to the waiting instance completes it on our open page, its row too, with no reload", async () => {
  const page = await ourPage("/workflows/lab/instances/waiting-for-event", "#detail-status:text-is('waiting')");
  await page.waitForSelector('#instances tr.row[data-id="waiting-for-event"] .status.waiting');
  await control("ours", "waiting-for-event", "event", { type: "approve", payload: { by: "the test" } });
  await page.waitForSelector("#detail-status:text-is('complete')");
  await page.waitForSelector('#instances tr.row[data-id="waiting-for-event"] .status.complete');
  await page.close();
});
