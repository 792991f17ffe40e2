import type { Page } from "playwright-core";
import { expect, it } from "vitest";
import { base, countOf, createInstance, pageWithToken } from "./harness.ts";

/**
 * A workflow's instance list in a real browser: newest first across pages,
 * live from the workflow's change stream (a row comes, moves on and goes
 * with no reload, no refresh and no polling), an event sent from a row,
 * 200 instances with UUID ids read at 1500 and 390 px with "Showing 1–N of M"
 * and a page size, and the list's width with and without an instance open.
 */

const headers = { authorization: "Bearer test-token", "content-type": "application/json" };

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base()}/api${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, body: await response.json() };
}

interface Listed {
  id: string;
  status: string;
  createdAt: number;
}

/** Every instance of the workflow as the API lists it (newest first), page after page. */
async function listed(workflow: string): Promise<Listed[]> {
  const all: Listed[] = [];
  for (let cursor: string | undefined, first = true; first || cursor !== undefined; first = false) {
    const page = await call("GET", `/workflows/${workflow}/instances?limit=1000${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`);
    all.push(...(page.body.instances as Listed[]));
    cursor = page.body.cursor as string | undefined;
  }
  return all;
}

/** The list of a workflow, read and live: its change stream is open. */
async function openList(page: Page, workflow: string): Promise<void> {
  await page.goto(`${base()}/workflows/${workflow}`);
  await page.waitForSelector('#live[data-live="true"]');
  await page.waitForSelector("#instances tr.row, #instances td.muted:text-is('No instances.')");
}

const row = (id: string) => `#instances tr.row[data-id="${id}"]`;
const rowIds = (page: Page) => page.locator("#instances tr.row").evaluateAll((rows) => rows.map((tr) => tr.getAttribute("data-id") ?? ""));
/** How far the page, and the list's own scroll box, scroll sideways (evaluated in the page, which has a document). */
const sideways = (page: Page) =>
  page.evaluate(
    `[document.documentElement.scrollWidth - document.documentElement.clientWidth, ...[...document.querySelectorAll("#list-panel, #list-panel .scroll-x")].map((box) => box.scrollWidth - box.clientWidth)]`,
  ) as Promise<number[]>;
/** Waits until the list shows `count` rows (waitForFunction would evaluate a string, which the page's CSP refuses). */
const rowsShown = (page: Page, count: number) => expect.poll(() => page.locator("#instances tr.row").count(), { timeout: 30_000, interval: 100 }).toBe(count);
const showingText = (page: Page) => page.textContent("#showing");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

it("a row comes, moves on and goes live: created, approved and deleted through the API, with no reload, no refresh and no polling", async () => {
  const page = await pageWithToken();
  await openList(page, "gate");
  // A reload would lose this; every read of the list from here on is counted.
  await page.evaluate("window.sameDocument = true");
  const reads: string[] = [];
  page.on("request", (request) => {
    if (/\/api\/workflows\/gate(\/instances)?(\?|$)/.test(new URL(request.url()).pathname + new URL(request.url()).search)) reads.push(request.url());
  });

  await createInstance("gate", { id: "live-row" });
  await page.waitForSelector(`${row("live-row")} .status.waiting`);
  expect((await rowIds(page))[0]).toBe("live-row");
  await page.waitForSelector('#counts .count[data-status="waiting"] .n:text-is("1")');

  expect((await call("POST", "/workflows/gate/instances/live-row/events", { type: "approve", payload: "from the API" })).status).toBe(202);
  await page.waitForSelector(`${row("live-row")} .status.complete`);
  await page.waitForSelector('#counts .count[data-status="complete"] .n:text-is("1")');
  expect(await countOf(page, "waiting")).toBe("0");

  expect((await call("DELETE", "/workflows/gate/instances/live-row")).status).toBe(200);
  await page.waitForSelector(row("live-row"), { state: "detached" });
  await page.waitForSelector('#counts .count[data-status="complete"] .n:text-is("0")');

  expect(await page.evaluate("window.sameDocument")).toBe(true);
  expect(reads, "the list and counts were not read again: the stream told every change").toEqual([]);
  await page.close();
});

it("sends an event from a row: a payload that is not JSON is refused in the dialog and nothing is sent; a good one is, and the row moves on", async () => {
  const page = await pageWithToken();
  await openList(page, "gate");
  await createInstance("gate", { id: "row-event" });
  await page.waitForSelector(`${row("row-event")} .status.waiting`);
  const before = (await call("GET", "/workflows/gate/instances/row-event/history")).body.records as { type: string }[];

  await page.click(`${row("row-event")} button[data-row-action="send-event"]`);
  await page.waitForSelector("#event-dialog[open]");
  expect(await page.textContent("#event-dialog-to")).toBe("row-event");
  await page.fill("#event-dialog-type", "approve");
  await page.fill("#event-dialog-payload", "{ by: Ada");
  await page.click("#event-dialog-send");
  await page.waitForSelector("#event-dialog-error:has-text('not valid JSON')");
  expect(await page.isVisible("#event-dialog")).toBe(true);
  expect((await call("GET", "/workflows/gate/instances/row-event/history")).body.records).toEqual(before);
  expect((await call("GET", "/workflows/gate/instances/row-event")).body.status).toBe("waiting");

  await page.fill("#event-dialog-payload", '{"by": "Ada"}');
  await page.click("#event-dialog-send");
  await page.waitForSelector("#event-dialog", { state: "hidden" });
  await page.waitForSelector(`${row("row-event")} .status.complete`);
  expect((await call("GET", "/workflows/gate/instances/row-event")).body.output).toEqual({ approval: { by: "Ada" } });
  // A finished instance takes no events: its row offers none.
  expect(await page.locator(`${row("row-event")} button[data-row-action="send-event"]`).count()).toBe(0);
  await page.close();
});

it("lists 200 instances with UUID ids newest first across Next page, with no sideways scroll at 1500 and 390 px; ids cut, whole on hover, copyable", async () => {
  const created: string[] = [];
  for (let batch = 0; batch < 2; batch++) {
    const answer = await call("POST", "/workflows/gate/instances/batch", { count: 100 });
    expect(answer.status).toBe(201);
    created.push(...(answer.body.created as { id: string }[]).map(({ id }) => id));
  }
  expect(created).toHaveLength(200);
  for (const id of created) expect(id).toMatch(UUID);
  // The registry hears of each instance from its object: wait until it lists all 200.
  await expect.poll(async () => (await listed("gate")).filter((entry) => created.includes(entry.id)).length, { timeout: 60_000, interval: 200 }).toBe(200);
  const expected = await listed("gate");
  // The API's order: newest first, the id descending within a millisecond; UUIDs are in no such order of their own.
  expect(expected).toEqual([...expected].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)));

  for (const width of [1500, 390]) {
    const page = await pageWithToken({ width, height: 900 });
    await openList(page, "gate");
    await rowsShown(page, 100);
    expect(await rowIds(page), `${width} px: the first page`).toEqual(expected.slice(0, 100).map((entry) => entry.id));
    expect(await sideways(page), `${width} px: the first page`).toEqual([0, 0, 0]);
    // M is the counts' total: every status, as no filter is in force.
    expect(await showingText(page)).toBe(`Showing 1–100 of ${expected.length}`);

    // Next page, as often as it is offered: the list may hold more than these 200.
    for (let pages = 1; await page.isVisible("#more"); pages++) {
      await page.click("#more");
      await rowsShown(page, Math.min(expected.length, (pages + 1) * 100));
    }
    expect(await rowIds(page), `${width} px: every page, newest first across the boundary`).toEqual(expected.map((entry) => entry.id));
    expect(await page.isVisible("#more")).toBe(false);
    expect(await sideways(page), `${width} px: every page`).toEqual([0, 0, 0]);
    expect(await showingText(page)).toBe(`Showing 1–${expected.length} of ${expected.length}`);

    const id = expected[150]!.id;
    expect(await page.textContent(`${row(id)} a.open`)).toBe(`${id.slice(0, 8)}…${id.slice(-4)}`);
    expect(await page.getAttribute(`${row(id)} a.open`, "title")).toBe(id);
    await page.evaluate(`window.copied = []; navigator.clipboard.writeText = async (text) => void window.copied.push(text);`);
    await page.click(`${row(id)} button.copy`);
    expect(await page.evaluate("window.copied")).toEqual([id]);
    await page.close();
  }
});

it("pages by the size chosen, saying which rows of how many are shown, for the filter in force", async () => {
  const ids = Array.from({ length: 30 }, (_, n) => `paged-${String(n).padStart(2, "0")}`);
  for (const id of ids) await createInstance("gate", { id });
  // The registry hears of each instance from its object: wait until it lists all 30.
  await expect.poll(async () => (await listed("gate")).filter((entry) => ids.includes(entry.id)).length, { timeout: 30_000, interval: 100 }).toBe(30);
  const all = await listed("gate");
  const waiting = all.filter((entry) => entry.status === "waiting").length;
  const page = await pageWithToken();
  await openList(page, "gate");
  await rowsShown(page, Math.min(100, all.length));
  await page.selectOption("#page-size", "25");
  await rowsShown(page, 25);
  expect(await rowIds(page)).toEqual(all.slice(0, 25).map((entry) => entry.id));
  expect(await showingText(page)).toBe(`Showing 1–25 of ${all.length}`);
  await page.click("#more");
  await rowsShown(page, 50);
  expect(await rowIds(page)).toEqual(all.slice(0, 50).map((entry) => entry.id));
  expect(await showingText(page)).toBe(`Showing 1–50 of ${all.length}`);

  // A filter: M is that status's count.
  await page.click('#counts .count[data-status="waiting"]');
  await rowsShown(page, Math.min(25, waiting));
  expect(await showingText(page)).toBe(`Showing 1–${Math.min(25, waiting)} of ${waiting}`);
  await page.close();
});

it("gives the list the whole width with no instance open, and a narrower column beside an open one, its row icons whole, at 1280 px", async () => {
  await createInstance("gate", { id: "width-waiting" });
  const page = await pageWithToken({ width: 1280, height: 900 });
  await openList(page, "gate");
  await page.waitForSelector(row("width-waiting"));
  const widths = () => page.evaluate(`[document.querySelector("#main").clientWidth, document.querySelector("#list-panel").offsetWidth]`) as Promise<number[]>;
  const [mainWidth, alone] = await widths();
  expect(await page.isVisible("#detail")).toBe(false);
  // The list is the main area less its padding (16 px each side).
  expect(alone).toBe(mainWidth! - 32);
  expect(await sideways(page)).toEqual([0, 0, 0]);

  await page.click(`${row("width-waiting")} a.open`);
  await page.waitForSelector("#detail-id:text-is('width-waiting')");
  const [, beside] = await widths();
  expect(beside).toBeLessThanOrEqual(460);
  expect(await sideways(page), "the page, the list and its scroll box beside an instance").toEqual([0, 0, 0]);
  // Every icon of the waiting row (send event, pause, terminate, restart, delete) lies inside the list's box.
  const overflow = await page.evaluate(
    `(() => { const box = document.querySelector("#list-panel").getBoundingClientRect(); return [...document.querySelectorAll('#instances tr.row[data-id="width-waiting"] td.actions button')].map((button) => button.getBoundingClientRect().right - box.right).filter((over) => over > 0); })()`,
  );
  expect(overflow).toEqual([]);
  expect(await page.locator(`${row("width-waiting")} td.actions button`).count()).toBe(5);
  await page.close();
});
