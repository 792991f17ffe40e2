import type { Page } from "playwright-core";
import { expect, it } from "vitest";
import { base, browser, confirm, countOf, createInstance, forgetViolations, litLeaves, litState, openDashboard, pageWithToken, stepKeys, stepRow, trigger, viewBox, violationSeen, watchedPage, worker } from "./harness.ts";

/** The dashboard in a real browser: each view, every action, deep links, live updates (e2e/harness.ts starts the Worker and chromium). */
it("triggers a machine instance from the form, shows its steps finish, sends an event and shows the new state", async () => {
  const page = await openDashboard("gated");
  await trigger(page, "from-the-browser", '{"instance":"from-the-browser"}');

  await page.waitForSelector("#log-records >> text=step 0.gated.a#1 succeeded");
  await page.waitForSelector("#log-records >> text=step 0.gated.c#1 succeeded");
  await page.waitForSelector(litState("approval"));
  await page.waitForSelector("#detail-status:text-is('waiting')");
  // The approval's one-minute timeout is named for what it is, not by XState's id for it.
  await page.waitForSelector(`${stepRow("xstate.after.60000.gated.approval#1")} td.name >> text=after 1 min in gated.approval`);
  // The statechart is dashboard/diagram's SVG: approval the one leaf lit; + and − zoom its viewBox, fit shows it whole again.
  expect(await litLeaves(page)).toEqual(["state:approval"]);
  const fitted = await viewBox(page);
  await page.click("#zoom-in");
  const closer = await viewBox(page);
  expect(closer[2]).toBeLessThan(fitted[2]!);
  expect(closer[3]).toBeLessThan(fitted[3]!);
  await page.click("#zoom-out");
  await page.click("#zoom-out");
  expect((await viewBox(page))[2]).toBeGreaterThan(fitted[2]!);
  await page.click("#zoom-fit");
  expect(await viewBox(page)).toEqual(fitted);
  expect(await page.textContent("#params")).toContain('"instance": "from-the-browser"');
  // The machine's steps by actor name, newest first.
  await page.waitForSelector(stepRow("0.gated.c#1"));
  const names = await page.locator("#steps tr.step[data-kind='step'] td.name").allTextContents();
  expect(names).toEqual(["cstep", "bstep", "astep"]);

  await page.fill("#event-type", "approve");
  await page.fill("#event-payload", '"from the browser"');
  await page.click("#send-event");

  await page.waitForSelector(litState("done"));
  expect(await litLeaves(page)).toEqual(["state:done"]);
  await page.waitForSelector("#detail-status:text-is('complete')");
  expect(await page.textContent("#output")).toContain("from the browser");
  expect(await page.locator("#log-records >> text=event approve").count()).toBe(1);
  await page.waitForSelector(`${stepRow("approve#1")} >> text=ok`);
  await page.waitForSelector("#instances tr.row[data-id='from-the-browser'] .status.complete");

  // The timeline: a bar per step attempt, with its duration, and the full dates on hover.
  await page.waitForSelector('#timeline li[data-kind="attempt"]');
  const attempts = page.locator('#timeline li[data-kind="attempt"]');
  expect((await attempts.evaluateAll((rows) => rows.map((row) => row.getAttribute("data-key")))).sort()).toEqual(["0.gated.a#1", "0.gated.b#1", "0.gated.c#1"]);
  expect(await attempts.first().getAttribute("title")).toMatch(/succeeded, .+\n.+ → .+/);
  expect(await attempts.first().locator(".timeline-duration").textContent()).toMatch(/\d/);

  // Time travel: the slider at the record before the approval shows the instance waiting in approval, lit so; Now returns.
  const approvedAt = Number(await page.getAttribute('#log-records div:has-text("event approve")', "data-seq"));
  await page.$eval("#travel-seq", (slider, seq) => {
    (slider as unknown as { value: string }).value = String(seq);
    slider.dispatchEvent(new Event("input"));
  }, approvedAt - 1);
  await page.waitForSelector("#travel-status:text-is('waiting')");
  expect(await page.textContent("#travel-value")).toContain('"approval"');
  expect(await page.textContent("#travel-context")).toContain('"approval": null');
  await page.waitForSelector(litState("approval"));
  expect(await litLeaves(page)).toEqual(["state:approval"]);
  await page.locator("#detail").screenshot({ path: new URL("../docs/dashboard-time-travel.png", import.meta.url).pathname });
  await page.click("#travel-now");
  await page.waitForSelector(litState("done"));
  expect(await page.locator("#travel-status").count()).toBe(0);
  expect(await page.inputValue("#travel-seq")).toBe(await page.getAttribute("#travel-seq", "max"));
  await page.close();
});

it("refuses params that are not JSON in the trigger form, and creates nothing", async () => {
  const page = await openDashboard("booking");
  await page.click("#trigger-open");
  await page.fill("#trigger-id", "bad-json");
  await page.fill("#trigger-params", "{ fail: true");
  await page.click("#trigger-submit");
  await page.waitForSelector("#trigger-error:has-text('Params are not valid JSON')");
  expect(await page.isVisible("#trigger")).toBe(true);
  await page.click("#trigger-cancel");
  await page.waitForSelector("#trigger", { state: "hidden" });
  expect(await page.locator("#instances tr.row[data-id='bad-json']").count()).toBe(0);
  await page.close();
});

it("shows a code-first step history: counts, search, kind filter, attempts, config, [REDACTED] output, rollback steps, restart from a step", async () => {
  const page = await openDashboard("booking");
  await trigger(page, "declined", '{"fail": true}');
  await page.waitForSelector(`${stepRow("waitForEvent:approval-1")} >> text=waiting`);
  await page.fill("#event-type", "approve");
  await page.fill("#event-payload", '{"by": "Ada"}');
  await page.click("#send-event");
  await page.waitForSelector("#detail-status:text-is('errored')");
  await page.waitForSelector(stepRow("rollback:do:reserve seat-1"));
  expect(await page.textContent("#error")).toContain("card declined");

  // Newest first: the rollbacks, newest first themselves, then the charge that failed.
  const order = await stepKeys(page);
  expect(order).toEqual([
    "rollback:do:reserve seat-1",
    "rollback:do:charge card-1",
    "do:charge card-1",
    "waitForEvent:approval-1",
    "sleep:cool down-1",
    "do:notify-2",
    "do:notify-1",
    "do:reserve seat-1",
    "do:mint token-1",
  ]);
  await page.waitForSelector('#counts .count[data-status="errored"] .n:text-is("1")');

  await page.fill("#step-search", "notify");
  expect(await stepKeys(page)).toEqual(["do:notify-2", "do:notify-1"]);
  await page.fill("#step-search", "");
  await page.selectOption("#step-kind", "rollback");
  expect(await page.locator("#steps tr.step").count()).toBe(2);
  await page.selectOption("#step-kind", "sleep");
  expect(await stepKeys(page)).toEqual(["sleep:cool down-1"]);
  await page.fill("#step-search", "nothing like it");
  await page.waitForSelector("#steps >> text=No steps match.");
  await page.fill("#step-search", "");
  await page.selectOption("#step-kind", "");

  await page.click(`${stepRow("do:mint token-1")} button.expand`);
  const mint = '#steps tr.step-detail[data-key="do:mint token-1"]';
  await page.waitForSelector(mint);
  expect(await page.textContent(`${mint} pre.output`)).toBe('"[REDACTED]"');
  expect(await page.textContent(`${mint} pre.config`)).toContain('"sensitive": "output"');
  expect(await page.content()).not.toContain("s3cr3t");

  await page.click(`${stepRow("do:reserve seat-1")} button.expand`);
  const reserve = '#steps tr.step-detail[data-key="do:reserve seat-1"]';
  await page.waitForSelector(reserve);
  expect(await page.locator(`${reserve} table.attempts tbody tr`).count()).toBe(2);
  expect(await page.textContent(`${reserve} table.attempts tbody tr:first-child`)).toContain("Error: seat map busy");
  expect(await page.textContent(`${reserve} pre.output`)).toContain('"seat": "12A"');
  expect(await page.textContent(`${reserve} pre.config`)).toContain('"limit": 2');
  await page.screenshot({ path: new URL("../docs/dashboard.png", import.meta.url).pathname });

  // Restart from the sleep: the steps before it stay, the sleep runs again, and the run waits for approval anew.
  await page.click(`${stepRow("sleep:cool down-1")} button.restart-from`);
  await confirm(page, "earlier completed steps are kept");
  await page.waitForSelector(`${stepRow("waitForEvent:approval-1")} >> text=waiting`);
  await page.waitForSelector("#detail-status:text-is('waiting')");
  expect(await page.locator(stepRow("do:charge card-1")).count()).toBe(0);
  expect(await page.locator("#steps tr.step[data-kind='rollback']").count()).toBe(0);
  expect(await page.locator(stepRow("do:mint token-1")).count()).toBe(1);
  await page.close();
});

it("terminates with the rollback option, deletes one instance, then deletes them all", async () => {
  const page = await openDashboard("booking");
  await trigger(page, "undone", "{}");
  await page.waitForSelector(`${stepRow("waitForEvent:approval-1")} >> text=waiting`);
  await page.click("#detail [data-action='terminate']");
  await confirm(page, "its log is kept", true);
  await page.waitForSelector("#detail-status:text-is('terminated')");
  await page.waitForSelector(`${stepRow("rollback:do:reserve seat-1")} >> text=ok`);

  await trigger(page, "doomed", "{}");
  await page.waitForSelector("#instances tr.row[data-id='doomed']");
  await page.click("#instances tr.row[data-id='doomed'] button[data-row-action='delete']");
  await confirm(page, "whole log are wiped");
  await page.waitForSelector("#instances tr.row[data-id='doomed']", { state: "detached" });
  // No instance open: the list takes the whole width, the instance's panel goes.
  await page.waitForSelector("#detail", { state: "hidden" });
  await page.waitForSelector("#instances tr.row[data-id='undone']");

  await page.click("#delete-all");
  await confirm(page, "Every instance of this workflow");
  await page.waitForSelector("#instances >> text=No instances.");
  await page.waitForSelector("#message:has-text('Deleted')");
  for (const status of ["running", "waiting", "complete", "errored", "terminated"]) expect(await countOf(page, status)).toBe("0");
  await page.close();
});

/** The DAG graph's tasks, name → state, and its arrows, "need→task". */
const dagStates = async (page: Page) =>
  Object.fromEntries(
    await page
      .locator('#diagram svg g.node[data-kind="task"]')
      .evaluateAll((boxes) => boxes.map((box) => [box.getAttribute("data-path"), [...box.classList].filter((name) => !["node", "task", "active"].includes(name)).join(" ")])),
  );
const dagEdges = async (page: Page) =>
  (
    await page
      .locator("#diagram svg g.edge")
      .evaluateAll((edges) => edges.map((edge) => `${edge.getAttribute("data-source")?.replace("task:", "")}→${edge.getAttribute("data-target")?.replace("task:", "")}`))
  ).sort();
const dagTask = (name: string, taskState: string) => `#diagram svg g.node[data-id="task:${name}"].${taskState}`;
/** Where a task's box is centred across the page: tasks of one layer share it. */
const leftOf = async (page: Page, name: string) => {
  const box = (await page.locator(`#diagram svg g.node[data-id="task:${name}"]`).boundingBox())!;
  return box.x + box.width / 2;
};

it("draws a DAG instance as a graph: a box per task with its kind and live state, in columns by depth, an arrow per need", async () => {
  const page = await openDashboard("dag-diamond");
  // b is held at the ledger on its first run, so the graph stays put: a and c done (c after a retry), b running, d waiting for both.
  await trigger(page, "dag-held", '{"instance":"dag-held","holdB":true}');
  await page.waitForSelector(dagTask("c", "done"));
  expect(await dagStates(page)).toEqual({ a: "done", b: "running", c: "done", d: "pending" });
  expect(await dagEdges(page)).toEqual(["a→b", "a→c", "b→d", "c→d"]);
  expect(await page.locator('#diagram svg g.node[data-kind="task"] text.detail').allTextContents()).toEqual(["step", "step", "step", "step"]);
  // Running, b is the one task lit.
  expect(await page.locator("#diagram svg g.node.active").evaluateAll((nodes) => nodes.map((node) => node.getAttribute("data-id")))).toEqual(["task:b"]);
  const left = { a: await leftOf(page, "a"), b: await leftOf(page, "b"), c: await leftOf(page, "c"), d: await leftOf(page, "d") };
  expect(left.a).toBeLessThan(left.b);
  expect(left.b).toBeCloseTo(left.c, 0);
  expect(left.c).toBeLessThan(left.d);
  expect(await page.locator('#diagram svg g.node[data-kind="state"]').count()).toBe(0);
  // The timeline has a bar per attempt: c's first failed and was retried, its second succeeded; b still runs.
  await page.waitForSelector('#timeline li[data-kind="attempt"][data-key="c#1"][data-outcome="succeeded"]');
  const outcomes = (key: string) => page.locator(`#timeline li[data-kind="attempt"][data-key="${key}"]`).evaluateAll((rows) => rows.map((row) => row.getAttribute("data-outcome")));
  expect(await outcomes("c#1")).toEqual(["retrying", "succeeded"]);
  expect(await outcomes("b#1")).toEqual(["running"]);
  expect(await outcomes("a#1")).toEqual(["succeeded"]);
  await page.screenshot({ path: new URL("../docs/dashboard-dag.png", import.meta.url).pathname });

  // Ended while it ran, b is cancelled; d never started.
  await page.click("#detail [data-action='terminate']");
  await confirm(page, "its log is kept");
  await page.waitForSelector(dagTask("b", "cancelled"));
  expect(await dagStates(page)).toEqual({ a: "done", b: "cancelled", c: "done", d: "pending" });
  await page.close();
});

it("draws a map task with its items done, and every task done once the DAG completes", async () => {
  const page = await openDashboard("dag-fanout");
  await trigger(page, "dag-fanned", '{"instance":"dag-fanned"}');
  await page.waitForSelector("#detail-status:text-is('complete')");
  await page.waitForSelector(dagTask("join", "done"));
  expect(await dagStates(page)).toEqual({ list: "done", upper: "done", join: "done" });
  expect(await dagEdges(page)).toEqual(["list→upper", "upper→join"]);
  expect(await page.textContent('#diagram svg g.node[data-id="task:upper"] text.detail')).toBe("map over list");
  expect(await page.textContent('#map-progress li[data-task="upper"] .items')).toBe("5 items");
  await page.close();
});

it("marks the DAG task whose step failed for good, and leaves the tasks after it pending", async () => {
  const page = await openDashboard("data-pipeline");
  await trigger(page, "no-source", "{}");
  await page.waitForSelector("#detail-status:text-is('errored')");
  await page.waitForSelector(dagTask("ingest", "failed"));
  expect(await dagStates(page)).toEqual({ ingest: "failed", transform: "pending", join: "pending", publish: "pending" });
  expect(await dagEdges(page)).toEqual(["ingest→transform", "join→publish", "transform→join"]);
  await page.close();
});

it("serves the page, its script and its stylesheet with a strict CSP, no framing, no sniffing and no referrer", async () => {
  for (const [path, type] of [["/", "text/html"], ["/dashboard.js", "text/javascript"], ["/dashboard.css", "text/css"]] as const) {
    const response = await worker.fetch(path);
    expect(response.status, path).toBe(200);
    expect(response.headers.get("content-type")).toContain(type);
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    await response.text();
  }
  expect(await (await worker.fetch("/")).text()).not.toMatch(/<script>|<style>|style="/);
});

it("the page refuses inline script, and another site cannot frame it: the CSP check of these tests sees both", async () => {
  const page = await openDashboard("gated");
  const injected = await page.evaluate('const script = document.createElement("script"); script.textContent = "window.injected = true"; document.body.append(script); window.injected ?? false');
  expect(injected).toBe(false);
  await expect.poll(() => violationSeen((v) => v.startsWith("script-src"))).toBe(true);

  const framing = await watchedPage();
  await framing.setContent(`<iframe src="http://${worker.address}:${worker.port}/"></iframe>`);
  await expect.poll(() => violationSeen((v) => v.includes("frame-ancestors"))).toBe(true);
  expect(await framing.frames()[1]?.$("#token")).toBeFalsy();
  // Both refusals were the point of this test.
  forgetViolations();
  await framing.close();
  await page.close();
});

it("shows the newest records of a long log and says so, and reads older ones on request back to the creation", async () => {
  const page = await openDashboard("ticker");
  await trigger(page, "long-log", '{"n":150}');
  await page.waitForSelector("#detail-status:text-is('waiting')");
  // Opened again now that the run waits: the log starts from its newest records.
  await page.click("#instances tr.row[data-id='long-log'] a.open");
  await page.waitForSelector("#log-note:has-text('showing the newest')");
  const note = (await page.textContent("#log-note"))!;
  const [shown, total] = /newest (\d+) of (\d+) records/.exec(note)!.slice(1).map(Number) as [number, number];
  expect(shown).toBe(200);
  expect(total).toBeGreaterThan(300);
  expect(await page.locator("#log-records > div").count()).toBe(200);
  while (await page.isVisible("#log-older")) {
    const before = await page.locator("#log-records > div").count();
    await page.click("#log-older");
    await expect.poll(() => page.locator("#log-records > div").count()).toBeGreaterThan(before);
  }
  expect(await page.textContent("#log-note")).toBe(`all ${total} records`);
  expect(await page.locator("#log-records > div").count()).toBe(total);
  expect(await page.textContent("#log-records > div:first-child")).toContain("created");
  await page.close();
});

it("shows a Python-served instance like any other: its step history and its end, driven here over the worker protocol as a worker would", async () => {
  const base = `http://${worker.address}:${worker.port}`;
  const api = (path: string, body: unknown, token: string) =>
    fetch(`${base}${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  expect((await api("/api/workflows/py-dashboard/instances", { id: "from-python", params: { table: "orders" } }, "test-token")).status).toBe(201);
  const claimed = (await (await api("/api/python/v1/workflows/py-dashboard/claim", { protocol: 1, worker: "e2e", waitMs: 10_000 }, "test-worker-token")).json()) as { task: { lease: string } };
  const calls = async (list: unknown[]) =>
    (await (await api("/api/python/v1/workflows/py-dashboard/instances/from-python/calls", { protocol: 1, lease: claimed.task.lease, calls: list }, "test-worker-token")).json()) as {
      answers: { key: string; run?: { attempt: number } }[];
    };
  const [rows] = (await calls([{ type: "step", name: "rows" }])).answers;
  await calls([{ type: "result", key: rows!.key, attempt: rows!.run!.attempt, ok: true, value: { json: { rows: 42 } } }]);
  await calls([{ type: "completed", output: { json: { total: 42 } } }]);

  const page = await openDashboard("py-dashboard");
  await page.click("#instances tr.row[data-id='from-python'] a.open");
  await page.waitForSelector("#detail-status:text-is('complete')");
  await page.waitForSelector(`${stepRow("do:rows-1")} >> text=ok`);
  expect(await stepKeys(page)).toEqual(["do:rows-1"]);
  // Its diagram is its steps' graph, as a class's is.
  await page.waitForSelector('#diagram svg g.node[data-id="task:do:rows-1"].done');
  await page.close();
});


it("opens an instance, and one of its steps, from its URL, and a reload keeps the view", async () => {
  await createInstance("booking", { id: "deep-link", params: {} });
  const page = await pageWithToken();
  await page.goto(`${base()}/workflows/booking/instances/deep-link/steps/${encodeURIComponent("do:reserve seat-1")}`);
  await page.waitForSelector("#detail-id:text-is('deep-link')");
  await page.waitForSelector('#steps tr.step-detail[data-key="do:reserve seat-1"] pre.output');
  expect(await page.inputValue("#workflow")).toBe("booking");
  await page.waitForSelector("#instances tr.row.selected[data-id='deep-link']");

  await page.reload();
  await page.waitForSelector('#steps tr.step-detail[data-key="do:reserve seat-1"] pre.output');
  expect(await page.textContent("#detail-id")).toBe("deep-link");
  expect(new URL(page.url()).pathname).toBe("/workflows/booking/instances/deep-link/steps/do%3Areserve%20seat-1");

  // The Worker serves the page for every view's URL, and only for those.
  expect((await worker.fetch("/workflows/booking/instances/deep-link")).status).toBe(200);
  expect((await worker.fetch("/workflows/booking/elsewhere")).status).toBe(404);
  await page.close();
});

it("moves through views with the back and forward buttons: step, instance, workflow", async () => {
  const page = await openDashboard("gated");
  await trigger(page, "back-and-forth", '{"instance":"back-and-forth"}');
  expect(new URL(page.url()).pathname).toBe("/workflows/gated/instances/back-and-forth");
  await page.waitForSelector(stepRow("0.gated.a#1"));
  await page.click(`${stepRow("0.gated.a#1")} button.expand`);
  await page.waitForSelector('#steps tr.step-detail[data-key="0.gated.a#1"]');
  expect(new URL(page.url()).pathname).toBe("/workflows/gated/instances/back-and-forth/steps/0.gated.a%231");

  await page.goBack();
  await page.waitForSelector('#steps tr.step-detail[data-key="0.gated.a#1"]', { state: "detached" });
  expect(await page.textContent("#detail-id")).toBe("back-and-forth");
  await page.goBack();
  // No instance open: the list takes the whole width, the instance's panel goes.
  await page.waitForSelector("#detail", { state: "hidden" });
  expect(new URL(page.url()).pathname).toBe("/workflows/gated");
  await page.goForward();
  await page.waitForSelector("#detail-id:text-is('back-and-forth')");
  await page.waitForSelector('#steps tr.step-detail[data-key="0.gated.a#1"]', { state: "detached" });

  // A filter is a view too: the count card puts it in the URL, and back takes it off.
  await page.click('#counts .count[data-status="waiting"]');
  await page.waitForURL(/\?status=waiting$/);
  expect(await page.inputValue("#filter")).toBe("waiting");
  await page.goBack();
  await page.waitForSelector("#detail-id:text-is('back-and-forth')");
  expect(await page.inputValue("#filter")).toBe("");
  await page.close();
});

it("shows an error panel only while there is an error: a bad payload shows it, the next action clears it", async () => {
  const page = await openDashboard("gated");
  await trigger(page, "error-panel", '{"instance":"error-panel"}');
  expect(await page.isVisible("#error-panel")).toBe(false);
  await page.fill("#event-type", "approve");
  await page.fill("#event-payload", "{ not json");
  await page.click("#send-event");
  await page.waitForSelector("#error-panel:has-text('The payload are not valid JSON')");
  await page.fill("#event-payload", '"fine"');
  await page.click("#send-event");
  await page.waitForSelector("#error-panel", { state: "hidden" });
  await page.waitForSelector("#message:has-text('event approve sent')");
  await page.close();
});

it("reads at 390 px: no sideways scroll, UUIDs cut with the whole id on hover, the instance alone with a way back", async () => {
  const id = await createInstance("booking", { params: {} });
  const page = await pageWithToken({ width: 390, height: 844 });
  await page.goto(`${base()}/workflows/booking`);
  const row = `#instances tr.row[data-id='${id}']`;
  await page.waitForSelector(row);
  expect(await page.getAttribute(`${row} a.open`, "title")).toBe(id);
  expect(await page.textContent(`${row} a.open`)).toBe(`${id.slice(0, 8)}…${id.slice(-4)}`);
  // How far the page scrolls sideways (evaluated in the page, which has a document).
  const sideways = () => page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
  expect(await sideways()).toBe(0);

  await page.click(`${row} a.open`);
  await page.waitForSelector(`#detail-id:text-is('${id}')`);
  await page.waitForSelector(`${stepRow("waitForEvent:approval-1")} >> text=waiting`);
  // The timeline's rows and the diagram's panel fit too.
  await page.waitForSelector('#timeline li.timeline-row[data-kind="wait"]');
  expect(await page.isVisible("#list-panel")).toBe(false);
  expect(await sideways()).toBe(0);
  await page.click(`${stepRow("do:reserve seat-1")} button.expand`);
  await page.waitForSelector('#steps tr.step-detail[data-key="do:reserve seat-1"] pre.output');
  expect(await sideways()).toBe(0);
  await page.screenshot({ path: new URL("../docs/dashboard-390.png", import.meta.url).pathname, fullPage: true });

  await page.click("#detail a.back");
  await page.waitForSelector(row);
  expect(await page.isVisible("#list-panel")).toBe(true);
  await page.close();
});

it("follows the system's dark theme: the page's colours come from it, and the statechart's boxes with them", async () => {
  await createInstance("gated", { id: "dark-theme", params: { instance: "dark-theme" } });
  const page = await pageWithToken();
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(`${base()}/workflows/gated/instances/dark-theme`);
  await page.waitForSelector("#diagram svg g.node.active[data-id='state:approval']");
  await page.waitForSelector('#timeline li[data-kind="attempt"]');
  // The dark theme's --bg and --text (dashboard/styles/base.css), and --panel in a box the SVG drew white.
  const colours = await page.evaluate(
    `[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color, getComputedStyle(document.querySelector('#diagram svg g.node:not(.active) > rect[fill="#ffffff"]')).fill]`,
  );
  expect(colours).toEqual(["rgb(15, 17, 21)", "rgb(230, 232, 238)", "rgb(24, 27, 33)"]);
  await page.screenshot({ path: new URL("../docs/dashboard-dark.png", import.meta.url).pathname });
  await page.emulateMedia({ colorScheme: "light" });
  expect(await page.evaluate("getComputedStyle(document.body).backgroundColor")).toBe("rgb(247, 247, 248)");
  await page.close();
});
