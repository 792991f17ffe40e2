/**
 * The local dashboard, served at `/` by every Worker made with
 * createWorkflows: one self-contained page (no build step, nothing fetched
 * from the network) over the HTTP API and the live inspection socket. It
 * offers what Cloudflare's local explorer offers for workflows (counts per
 * status, a trigger form, row actions, delete all, a step history with
 * search, a kind filter, expandable attempts, config and output, restart
 * from a step) and shows what the explorer hides: rollback steps, the
 * machine and the whole log.
 */
export const DASHBOARD_HTML = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>durable-machines</title>
<link rel="stylesheet" href="/dashboard.css">
</head>
<body>
<header>
  <h1>durable-machines</h1>
  <label>API token <input id="token" type="password" size="18" placeholder="API_TOKEN"></label>
  <label>Workflow <select id="workflow"></select></label>
  <span id="message" class="muted"></span>
</header>
<main>
  <section>
    <div id="counts" class="counts"></div>
    <div class="tools">
      <label>Status <select id="filter"><option value="">all</option></select></label>
      <button id="refresh">Refresh</button>
      <button id="trigger-open" class="primary">Trigger…</button>
      <button id="delete-all" class="danger">Delete all…</button>
    </div>
    <table><thead><tr><th>id</th><th>status</th><th>started</th><th>duration</th><th></th></tr></thead><tbody id="instances"></tbody></table>
    <div class="tools"><button id="more" hidden>Next page</button></div>
  </section>
  <section id="detail">
    <p class="muted">Choose an instance, or trigger one.</p>
  </section>
</main>

<dialog id="trigger">
  <form method="dialog">
    <h2>Trigger an instance</h2>
    <label for="trigger-id">Instance id</label>
    <input id="trigger-id" type="text" placeholder="Auto-generated UUID if empty">
    <label for="trigger-params">Params (JSON)</label>
    <textarea id="trigger-params" rows="6" placeholder='{"n": 1}'></textarea>
    <div id="trigger-error" class="error"></div>
    <div class="tools"><button id="trigger-cancel" type="button">Cancel</button><button id="trigger-submit" class="primary">Trigger</button></div>
  </form>
</dialog>

<dialog id="confirm">
  <form method="dialog">
    <h2 id="confirm-title"></h2>
    <p id="confirm-text"></p>
    <label id="confirm-rollback-label" hidden><input id="confirm-rollback" type="checkbox"> Run rollback handlers (compensations) first</label>
    <div class="tools"><button id="confirm-cancel" value="cancel">Cancel</button><button id="confirm-ok" class="primary" value="ok">OK</button></div>
  </form>
</dialog>

<script src="/dashboard.js"></script>
</body>
</html>
`;

/** The page's styles, served at /dashboard.css: a stylesheet of its own, so the page's CSP allows no inline style. */
export const DASHBOARD_CSS = /* css */ `  :root { --bg: #f7f7f8; --panel: #fff; --line: #dcdde3; --text: #1d1e24; --muted: #6b6e7b; --accent: #3b5bdb; --ok: #2b8a3e; --bad: #c92a2a; --warn: #e67700; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--text); background: var(--bg); }
  header { display: flex; gap: 12px; align-items: center; padding: 10px 16px; background: var(--panel); border-bottom: 1px solid var(--line); }
  header h1 { font-size: 16px; margin: 0 12px 0 0; }
  main { display: grid; grid-template-columns: minmax(380px, 480px) minmax(0, 1fr); gap: 16px; padding: 16px; }
  @media (max-width: 1100px) { main { grid-template-columns: 1fr; } }
  section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px; min-width: 0; overflow-x: auto; }
  h2 { font-size: 14px; margin: 12px 0 8px; } h2:first-child { margin-top: 0; }
  input, select, button, textarea { font: inherit; }
  input, select, textarea { border: 1px solid var(--line); border-radius: 6px; padding: 4px 8px; background: #fff; }
  button { border: 1px solid var(--line); border-radius: 6px; padding: 3px 10px; background: #fff; cursor: pointer; }
  button:disabled { opacity: 0.45; cursor: default; }
  button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
  button.danger { color: var(--bad); border-color: #ffc9c9; }
  button.small { padding: 0 6px; font-size: 12px; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; vertical-align: top; }
  th { font-weight: 600; color: var(--muted); font-size: 12px; }
  td.actions { white-space: normal; } td.actions button { margin: 0 2px 2px 0; }
  tr.row { cursor: pointer; } tr.row:hover, tr.row.selected { background: #eef2ff; }
  .status { display: inline-block; padding: 0 6px; border-radius: 10px; font-size: 12px; background: #e9ecef; }
  .status.complete, .status.ok { background: #d3f9d8; color: var(--ok); } .status.errored, .status.failed { background: #ffe3e3; color: var(--bad); }
  .status.running { background: #dbe4ff; color: var(--accent); } .status.waiting, .status.rollingBack { background: #fff3bf; color: var(--warn); }
  .status.paused, .status.waitingForPause, .status.terminated, .status.cancelled { background: #e9ecef; color: var(--muted); }
  .tag { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 11px; background: #f1f3f5; color: var(--muted); margin-left: 6px; }
  .tag.rollback { background: #fff0f6; color: #a61e4d; }
  .tools { display: flex; gap: 6px; flex-wrap: wrap; align-items: center; margin: 8px 0; }
  .counts { display: grid; grid-template-columns: repeat(auto-fill, minmax(92px, 1fr)); gap: 6px; }
  .count { border: 1px solid var(--line); border-radius: 6px; padding: 4px 8px; cursor: pointer; background: #fff; text-align: left; }
  .count .n { display: block; font-size: 18px; font-weight: 600; } .count .label { font-size: 12px; color: var(--muted); }
  .count.active { border-color: var(--accent); box-shadow: 0 0 0 2px #bac8ff; }
  .summary { display: flex; gap: 24px; padding: 8px 0; border-bottom: 1px solid var(--line); }
  .summary div span { display: block; font-size: 12px; color: var(--muted); }
  .muted { color: var(--muted); }
  .error { color: var(--bad); white-space: pre-wrap; }
  .state { border: 1px solid var(--line); border-radius: 8px; padding: 6px 8px; margin: 6px 0 0; background: #fff; }
  .state > .name { font-weight: 600; }
  .state.active { border-color: var(--accent); box-shadow: 0 0 0 2px #bac8ff; background: #f3f6ff; }
  .state.final > .name::after { content: " (final)"; color: var(--muted); font-weight: 400; }
  .state.parallel > .children { display: flex; gap: 8px; flex-wrap: wrap; } .state.parallel > .children > .state { flex: 1; }
  .transitions { font-size: 12px; color: var(--muted); }
  #diagram { overflow-x: auto; padding-bottom: 4px; }
  .dag { position: relative; margin: 6px 4px 0 2px; }
  .dag svg { position: absolute; left: 0; top: 0; overflow: visible; }
  .dag .edge { fill: none; stroke: #adb5bd; stroke-width: 1.5; }
  .dag-task { position: absolute; border: 1px solid var(--line); border-radius: 8px; padding: 4px 8px; background: #fff; }
  .dag-task .name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .dag-task .tag { margin-left: 4px; }
  .dag-task.running { border-color: var(--accent); box-shadow: 0 0 0 2px #bac8ff; } .dag-task.failed { border-color: var(--bad); box-shadow: 0 0 0 2px #ffc9c9; }
  .timeline { max-height: 300px; overflow: auto; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
  .timeline div { padding: 2px 0; border-bottom: 1px dashed #eee; }
  .timeline .failed { color: var(--bad); } .timeline .ok { color: var(--ok); }
  pre { background: #f8f9fa; border-radius: 6px; padding: 8px; margin: 4px 0; overflow: auto; max-height: 200px; white-space: pre-wrap; }
  .grid2 { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 12px; }
  .grid3 { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 12px; }
  tr.step-detail > td { background: #fbfbfc; white-space: normal; }
  tr.step-detail table { margin: 4px 0 8px; }
  dialog { border: 1px solid var(--line); border-radius: 8px; padding: 16px; min-width: 380px; }
  dialog::backdrop { background: rgba(0, 0, 0, 0.25); }
  dialog label { display: block; margin: 8px 0 2px; }
  dialog input[type="text"], dialog textarea { width: 100%; }
  dialog .tools { justify-content: flex-end; margin-top: 12px; }
`;

/** The page's script, served at /dashboard.js: a file of its own, so the page's CSP allows no inline script. */
export const DASHBOARD_JS = /* js */ `const $ = (id) => document.getElementById(id);
const STATUSES = ["running", "waiting", "paused", "waitingForPause", "rollingBack", "complete", "errored", "terminated", "queued"];
const LABELS = { waitingForPause: "pausing", rollingBack: "rolling back" };
const FINISHED = ["complete", "errored", "terminated"];
const state = { workflow: "", cursor: undefined, selected: undefined, socket: undefined, definition: undefined, context: undefined, steps: [], expanded: new Set(), renders: 0, drawn: 0, log: undefined };
/** Records the log view starts with, the newest; "Older records" adds as many again. */
const LOG_PAGE = 200;

// ---- plumbing -------------------------------------------------------------

$("token").value = localStorage.getItem("dm-token") || "";
$("token").addEventListener("change", () => { localStorage.setItem("dm-token", $("token").value); start(); });

async function api(path, init = {}) {
  const response = await fetch("/api" + path, { ...init, headers: { authorization: "Bearer " + $("token").value, "content-type": "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ? body.error.code + ": " + body.error.message : response.status + " " + response.statusText);
  return body;
}
/** Every step of an instance: the API answers a page at a time (1,000 steps or 4 MiB). */
async function allSteps(id) {
  const steps = [];
  for (let after = 0; after !== undefined; ) {
    const page = await api(instancePath(id) + "/steps?after=" + after);
    steps.push(...page.steps);
    after = page.next;
  }
  return { steps };
}
const workflowPath = () => "/workflows/" + encodeURIComponent(state.workflow);
const instancePath = (id) => workflowPath() + "/instances/" + encodeURIComponent(id);
function say(text, isError) { $("message").textContent = text; $("message").className = isError ? "error" : "muted"; }
const failed = (error) => say(String(error.message || error), true);
const esc = (text) => String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const time = (ms) => new Date(ms).toLocaleTimeString();
const span = (ms) => ms < 1000 ? ms + " ms" : ms < 60000 ? (ms / 1000).toFixed(1) + " s" : Math.round(ms / 60000) + " min";
const pretty = (value) => esc(JSON.stringify(value, null, 2));

/** Parses a JSON field, or throws an error that names the field and what is wrong with it. */
function parseJson(text, what) {
  if (!text.trim()) return undefined;
  try { return JSON.parse(text); } catch (error) { throw new Error(what + " are not valid JSON: " + error.message); }
}

/** The confirm dialog; resolves to { ok, rollback }. */
function ask(title, text, offerRollback) {
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-rollback-label").hidden = !offerRollback;
  $("confirm-rollback").checked = false;
  $("confirm").showModal();
  return new Promise((resolve) => $("confirm").addEventListener("close", () => resolve({ ok: $("confirm").returnValue === "ok", rollback: $("confirm-rollback").checked }), { once: true }));
}

// ---- instance actions, from a row or from the instance page -----------------

/** Each resolves to whether it was done (the user may cancel a confirm). */
const ACTIONS = {
  pause: (id) => api(instancePath(id) + "/pause", { method: "POST", body: "{}" }).then(() => true),
  resume: (id) => api(instancePath(id) + "/resume", { method: "POST", body: "{}" }).then(() => true),
  async terminate(id) {
    const answer = await ask("Terminate " + id + "?", "The instance stops for good; its log is kept.", true);
    if (answer.ok) await api(instancePath(id) + "/terminate", { method: "POST", body: JSON.stringify({ rollback: answer.rollback }) });
    return answer.ok;
  },
  async restart(id) {
    const answer = await ask("Restart " + id + "?", "The instance runs again from the start with the same params; its log keeps the earlier run.");
    if (answer.ok) await api(instancePath(id) + "/restart", { method: "POST", body: "{}" });
    return answer.ok;
  },
  async delete(id) {
    const answer = await ask("Delete " + id + "?", "The instance and its whole log are wiped; the id can be used again.");
    if (!answer.ok) return false;
    await api(instancePath(id), { method: "DELETE" });
    if (state.selected === id) closeInstance();
    return true;
  },
};
/** Which actions make sense for a status (terminate and restart are refused by the API otherwise). */
const allowed = (action, status) => action === "pause" ? !FINISHED.includes(status) && status !== "paused"
  : action === "resume" ? status === "paused" || status === "waitingForPause"
  : action === "terminate" ? !FINISHED.includes(status) : true;

async function act(action, id) {
  try {
    if (!(await ACTIONS[action](id))) return;
    say(action + " " + id + " done");
    await refresh();
  } catch (error) { failed(error); }
}

// ---- the workflow: counts, filter, instances, trigger, delete all -----------

async function start() {
  try {
    const { workflows } = await api("/workflows");
    $("workflow").innerHTML = workflows.map((w) => "<option>" + esc(w) + "</option>").join("");
    if (state.workflow && workflows.includes(state.workflow)) $("workflow").value = state.workflow;
    state.workflow = $("workflow").value;
    say("");
    await list();
  } catch (error) { failed(error); }
}
$("filter").innerHTML += STATUSES.map((s) => "<option>" + s + "</option>").join("");

async function counts() {
  const { counts } = await api(workflowPath());
  $("counts").innerHTML = STATUSES.filter((s) => s !== "queued").map((s) =>
    '<button class="count' + ($("filter").value === s ? " active" : "") + '" data-status="' + s + '"><span class="n">' + counts[s] + '</span><span class="label">' + (LABELS[s] || s) + "</span></button>").join("");
}
$("counts").addEventListener("click", (event) => {
  const card = event.target.closest(".count");
  if (!card) return;
  $("filter").value = $("filter").value === card.dataset.status ? "" : card.dataset.status;
  list();
});

function rowHtml(i) {
  const finished = FINISHED.includes(i.status);
  const buttons = ["pause", "resume", "terminate", "restart", "delete"].filter((a) => allowed(a, i.status))
    .map((a) => '<button class="small' + (a === "delete" ? " danger" : "") + '" data-row-action="' + a + '">' + a + "</button>").join(" ");
  return '<tr class="row' + (i.id === state.selected ? " selected" : "") + '" data-id="' + esc(i.id) + '"><td>' + esc(i.id) + '</td><td><span class="status ' + esc(i.status) + '">' + esc(i.status) + "</span></td><td>" + time(i.createdAt) + "</td><td>" + span((finished ? i.updatedAt : Date.now()) - i.createdAt) + '</td><td class="actions">' + buttons + "</td></tr>";
}
async function list(more) {
  const query = new URLSearchParams({ limit: "20" });
  if ($("filter").value) query.set("status", $("filter").value);
  if (more && state.cursor) query.set("cursor", state.cursor);
  const [page] = await Promise.all([api(workflowPath() + "/instances?" + query), counts()]);
  state.cursor = page.cursor;
  $("more").hidden = !page.cursor;
  const rows = page.instances.map(rowHtml).join("");
  if (more) $("instances").insertAdjacentHTML("beforeend", rows); else $("instances").innerHTML = rows || '<tr><td colspan="5" class="muted">No instances.</td></tr>';
}
async function refresh() {
  await list().catch(failed);
  if (state.selected) await render();
}
$("workflow").addEventListener("change", () => { state.workflow = $("workflow").value; state.cursor = undefined; closeInstance(); list().catch(failed); });
$("filter").addEventListener("change", () => list().catch(failed));
$("refresh").addEventListener("click", () => refresh());
$("more").addEventListener("click", () => list(true).catch(failed));
$("instances").addEventListener("click", (event) => {
  const row = event.target.closest("tr.row");
  if (!row) return;
  const action = event.target.dataset.rowAction;
  if (action) act(action, row.dataset.id); else openInstance(row.dataset.id);
});

$("trigger-open").addEventListener("click", () => { $("trigger-error").textContent = ""; $("trigger").showModal(); });
$("trigger-cancel").addEventListener("click", () => $("trigger").close());
$("trigger-submit").addEventListener("click", async (event) => {
  event.preventDefault();
  try {
    const body = { params: parseJson($("trigger-params").value, "Params") };
    if ($("trigger-id").value.trim()) body.id = $("trigger-id").value.trim();
    const created = await api(workflowPath() + "/instances", { method: "POST", body: JSON.stringify(body) });
    $("trigger").close();
    $("trigger-id").value = "";
    say("Created " + created.id);
    await list();
    openInstance(created.id);
  } catch (error) { $("trigger-error").textContent = String(error.message || error); }
});

$("delete-all").addEventListener("click", async () => {
  const answer = await ask("Delete all instances of " + state.workflow + "?", "Every instance of this workflow and its whole log are wiped. This cannot be undone.");
  if (!answer.ok) return;
  try {
    const { deleted } = await api(workflowPath() + "/instances", { method: "DELETE" });
    say("Deleted " + deleted + " instance" + (deleted === 1 ? "" : "s"));
    closeInstance();
    await list();
  } catch (error) { failed(error); }
});

// ---- the machine and the log --------------------------------------------------

function activePaths(value, prefix) {
  if (typeof value === "string") return [prefix ? prefix + "." + value : value];
  if (!value || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, child]) => [prefix ? prefix + "." + key : key, ...activePaths(child, prefix ? prefix + "." + key : key)]);
}
function drawState(name, config, path, active) {
  const here = path ? path : name;
  const children = config.states ? Object.entries(config.states).map(([key, child]) => drawState(key, child, path ? path + "." + key : key, active)).join("") : "";
  const on = Object.entries(config.on || {}).map(([event, target]) => esc(event) + " → " + esc(targetOf(target))).concat(Object.entries(config.after || {}).map(([delay, target]) => "after " + esc(delay) + " → " + esc(targetOf(target))));
  if (config.invoke) on.unshift("invokes " + [].concat(config.invoke).map((i) => esc(typeof i.src === "string" ? i.src : "step")).join(", "));
  const classes = ["state", config.type === "parallel" ? "parallel" : "", config.type === "final" ? "final" : "", path && active.includes(here) ? "active" : ""].join(" ");
  return '<div class="' + classes + '" data-state="' + esc(here) + '"><div class="name">' + esc(name) + "</div>" + (on.length ? '<div class="transitions">' + on.join(" · ") + "</div>" : "") + (children ? '<div class="children">' + children + "</div>" : "") + "</div>";
}
function targetOf(target) {
  const first = [].concat(target)[0];
  if (typeof first === "string") return first;
  return first && first.target ? [].concat(first.target).join(", ") : "(actions)";
}
function describe(record) {
  const d = record.data || {};
  switch (record.type) {
    case "step.started": return ["", "step " + d.key + " attempt " + d.attempt + " started"];
    case "step.attempt_failed": return ["failed", "step " + d.key + " attempt " + d.attempt + " failed: " + d.error.name + ": " + d.error.message + (d.retryAt ? " (retry at " + time(d.retryAt) + ")" : "")];
    case "step.succeeded": return ["ok", "step " + d.key + " succeeded" + (d.output === undefined ? "" : ": " + JSON.stringify(d.output).slice(0, 120))];
    case "step.failed": return ["failed", "step " + d.key + " failed: " + d.error.name + ": " + d.error.message];
    case "timer.started": return ["", "timer " + d.id + " set for " + time(d.dueAt)];
    case "timer.fired": return ["", "timer " + d.id + " fired"];
    case "timer.cancelled": return ["", "timer " + d.id + " cancelled"];
    case "event.received": return ["", "event " + d.type + (d.payload === undefined ? "" : " " + JSON.stringify(d.payload).slice(0, 120))];
    case "wait.started": return ["", "waiting for event " + d.type + " until " + time(d.dueAt)];
    case "instance.errored": return ["failed", "errored: " + d.error.name + ": " + d.error.message];
    case "instance.created": return ["", "created" + (d.params === undefined ? "" : " with params " + JSON.stringify(d.params).slice(0, 120))];
    default: return ["", record.type.replace("instance.", "") + (Object.keys(d).length && record.type !== "instance.completed" ? " " + JSON.stringify(d).slice(0, 120) : "")];
  }
}
function durations(records) {
  const started = {};
  return records.map((r) => {
    if (r.type === "step.started") started[r.data.key + "#" + r.data.attempt] = r.at;
    const begun = (r.type === "step.succeeded" || r.type === "step.failed" || r.type === "step.attempt_failed") ? started[r.data.key + "#" + r.data.attempt] : undefined;
    return begun === undefined ? "" : " (" + span(r.at - begun) + ")";
  });
}

// ---- a DAG: its tasks in columns by dependency depth, an arrow per need -------

const TASK_KINDS = { task: "step", event: "waitForEvent" };
const TASK_BADGES = { done: "ok", failed: "failed", running: "running", cancelled: "cancelled" };
const BOX = { width: 124, height: 52, gapX: 34, gapY: 14 };
const needsOf = (task) => [...new Set([...(task.over ? [task.over] : []), ...task.needs])];

function depths(tasks) {
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const depth = new Map();
  const of = (name) => {
    if (!depth.has(name)) depth.set(name, Math.max(-1, ...needsOf(byName.get(name)).map(of)) + 1);
    return depth.get(name);
  };
  tasks.forEach((t) => of(t.name));
  return depth;
}

/** The task's region says pending, running or done; a step of it that failed for good, or the run ending while it ran, says more. */
function taskState(name, value, steps, ended) {
  const region = value && value[name];
  const here = typeof region === "string" ? region : region ? Object.keys(region)[0] : "pending";
  if (here !== "running") return here;
  if (steps.some((s) => s.name === name && s.kind === "step" && s.success === false)) return "failed";
  return ended ? "cancelled" : "running";
}

/** A map's items done and in all, from the machine's context (see MapProgress in core/dag/context.ts). */
function itemsDone(name, context) {
  const progress = context && context.maps && context.maps[name];
  if (progress) return progress.next - progress.slots.filter((slot) => slot !== null).length + "/" + progress.results.length + " items";
  const output = context && context.outputs && context.outputs[name];
  return Array.isArray(output) ? output.length + " items" : "";
}

function drawDag(shape, value, steps, context, ended) {
  const depth = depths(shape.tasks);
  const columns = [];
  shape.tasks.forEach((t) => (columns[depth.get(t.name)] ||= []).push(t.name));
  const tallest = Math.max(...columns.map((c) => c.length));
  const at = new Map(columns.flatMap((names, column) => names.map((name, row) => [name, {
    x: column * (BOX.width + BOX.gapX),
    y: (row + (tallest - names.length) / 2) * (BOX.height + BOX.gapY),
  }])));
  const width = columns.length * (BOX.width + BOX.gapX) - BOX.gapX;
  const height = tallest * (BOX.height + BOX.gapY) - BOX.gapY;
  const edges = shape.tasks.flatMap((task) => needsOf(task).map((need) => {
    const from = at.get(need), to = at.get(task.name);
    const x1 = from.x + BOX.width, y1 = from.y + BOX.height / 2, x2 = to.x - 2, y2 = to.y + BOX.height / 2, bend = (x1 + x2) / 2;
    return '<path class="edge" data-from="' + esc(need) + '" data-to="' + esc(task.name) + '" d="M' + x1 + " " + y1 + " C" + bend + " " + y1 + " " + bend + " " + y2 + " " + x2 + " " + y2 + '" marker-end="url(#dag-arrow)"/>';
  }));
  const boxes = shape.tasks.map((task) => {
    const { x, y } = at.get(task.name);
    const now = taskState(task.name, value, steps, ended);
    const items = task.kind === "map" && now !== "pending" ? ' <span class="muted items">' + itemsDone(task.name, context) + "</span>" : "";
    return '<div class="dag-task ' + now + '" data-task="' + esc(task.name) + '" data-task-state="' + now + '" data-place="' + [x, y, BOX.width, BOX.height].join(" ") + '">' +
      '<div class="name" title="' + esc(task.name) + '">' + esc(task.name) + '<span class="tag">' + esc(TASK_KINDS[task.kind] || task.kind) + "</span></div>" +
      '<span class="status ' + (TASK_BADGES[now] || "") + '">' + now + "</span>" + items + "</div>";
  });
  const arrow = '<defs><marker id="dag-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 0 L8 4 L0 8 z" fill="#adb5bd"/></marker></defs>';
  return '<div class="dag" data-place="' + ["", "", width, height].join(" ") + '"><svg width="' + width + '" height="' + height + '">' + arrow + edges.join("") + "</svg>" + boxes.join("") + "</div>";
}

/** Sizes and places what drawDag marked with data-place ("left top width height", blanks left out), through the CSSOM: the page's CSP refuses style attributes. */
function place(root) {
  root.querySelectorAll("[data-place]").forEach((element) => {
    const [left, top, width, height] = element.dataset.place.split(" ");
    Object.entries({ left, top, width, height }).forEach(([property, value]) => { if (value) element.style[property] = value + "px"; });
  });
}

// ---- step history --------------------------------------------------------------

const outcome = (s) => s.success === true ? ["ok", "ok"] : s.success === false ? ["failed", "failed"] : s.cancelled ? ["cancelled", "cancelled"] : ["running", s.kind === "waitForEvent" || s.kind === "sleep" || s.kind === "timer" ? "waiting" : "running"];
/** A rollback step shares its key with the step it undoes. */
const stepId = (s) => (s.kind === "rollback" ? "rollback:" : "") + s.key;

function stepRows(s) {
  const [kind, label] = outcome(s);
  const open = state.expanded.has(stepId(s));
  const restart = s.restartable ? '<button class="small restart-from" data-key="' + esc(s.key) + '">Restart from step</button>' : "";
  const row = '<tr class="step" data-key="' + esc(stepId(s)) + '" data-kind="' + esc(s.kind) + '"><td><button class="small expand" title="attempts, config and output">' + (open ? "−" : "+") + "</button></td>" +
    '<td class="name">' + esc(s.name) + (s.count > 1 ? ' <span class="muted">#' + s.count + "</span>" : "") + '<span class="tag ' + esc(s.kind) + '">' + esc(s.kind) + "</span></td>" +
    '<td><span class="status ' + kind + '">' + label + "</span></td><td>" + time(s.start) + "</td><td>" + (s.end === undefined ? "" : time(s.end)) + "</td><td>" + span((s.end === undefined ? Date.now() : s.end) - s.start) + "</td><td>" + restart + "</td></tr>";
  if (!open) return row;
  const attempts = s.attempts.length ? '<table class="attempts"><thead><tr><th>attempt</th><th>start</th><th>end</th><th>outcome</th><th>error</th></tr></thead><tbody>' + s.attempts.map((a) =>
    "<tr><td>" + a.attempt + "</td><td>" + time(a.start) + "</td><td>" + (a.end === undefined ? "" : time(a.end)) + "</td><td>" + (a.success === true ? "ok" : a.success === false ? "failed" : s.end === undefined ? "running" : "cut off") + '</td><td class="error">' + (a.error ? esc(a.error.name + ": " + a.error.message) : "") + "</td></tr>").join("") + "</tbody></table>" : '<p class="muted">No attempts: not a step that runs code.</p>';
  const detail = '<div class="grid3"><div><h2>Config</h2><pre class="config">' + (s.config === undefined ? "none" : pretty(s.config)) + '</pre></div><div><h2>Output</h2><pre class="output">' + (s.output === undefined ? "none" : pretty(s.output)) + "</pre></div>" +
    "<div><h2>Error</h2>" + (s.error ? '<pre class="error">' + esc(s.error.name + ": " + s.error.message) + "</pre>" : '<p class="muted">none</p>') + "</div></div>";
  return row + '<tr class="step-detail" data-key="' + esc(stepId(s)) + '"><td></td><td colspan="6"><h2>Attempts</h2>' + attempts + detail + "</td></tr>";
}
function drawSteps() {
  const search = $("step-search").value.trim().toLowerCase();
  const kind = $("step-kind").value;
  const kinds = [...new Set(state.steps.map((s) => s.kind))];
  $("step-kind").innerHTML = '<option value="">all kinds</option>' + kinds.map((k) => "<option" + (k === kind ? " selected" : "") + ">" + esc(k) + "</option>").join("");
  const shown = state.steps.filter((s) => (!kind || s.kind === kind) && (!search || s.name.toLowerCase().includes(search))).reverse();
  $("steps").innerHTML = shown.map(stepRows).join("") || '<tr><td colspan="7" class="muted">No steps' + (state.steps.length ? " match." : " yet.") + "</td></tr>";
}

// ---- the log, read a page at a time -------------------------------------------

/** The records after a seq: as many as limit says, or to the end of the log without it, following the API's pages. */
async function readLog(id, after, limit) {
  const records = [];
  for (;;) {
    const left = limit === undefined ? "" : "&limit=" + Math.min(1000, limit - records.length);
    const page = await api(instancePath(id) + "/history?after=" + after + left);
    records.push(...page.records);
    if (!page.records.length || page.next === undefined || (limit !== undefined && records.length >= limit)) return records;
    after = page.next;
  }
}
/** Runs reads of the instance's log one after another, so that two never add the same records; dropped once another instance is open. */
function logTask(task) {
  const log = state.log;
  log.queue = log.queue.then(() => (state.log === log ? task(log) : undefined)).catch(failed);
  return log.queue;
}
/** The newest records, once the socket has said how far the log goes; and the first record, for the params and the start. */
const loadNewest = (seq) => logTask(async (log) => {
  if (log.records.length) return;
  const after = Math.max(0, seq - LOG_PAGE);
  log.records = await readLog(log.id, after);
  log.created = after === 0 ? log.records[0] : (await readLog(log.id, 0, 1))[0];
});
const loadNewer = () => logTask(async (log) => { if (log.records.length) log.records.push(...(await readLog(log.id, log.records[log.records.length - 1].seq))); });
const loadOlder = () => logTask(async (log) => {
  const first = log.records[0].seq;
  const after = Math.max(0, first - 1 - LOG_PAGE);
  if (first > 1) log.records.unshift(...(await readLog(log.id, after, first - 1 - after)));
});

// ---- one instance ------------------------------------------------------------

function closeInstance() {
  state.selected = undefined;
  state.log = undefined;
  if (state.socket) state.socket.close();
  $("detail").innerHTML = '<p class="muted">Choose an instance, or trigger one.</p>';
}

/** Lays out the instance page once; render() fills it, so typing in its fields survives live updates. */
async function openInstance(id) {
  state.selected = id;
  state.definition = undefined;
  state.context = undefined;
  state.steps = [];
  state.expanded = new Set();
  state.log = { id, records: [], created: undefined, queue: Promise.resolve() };
  document.querySelectorAll("tr.row").forEach((row) => row.classList.toggle("selected", row.dataset.id === id));
  $("detail").innerHTML =
    '<h2><span id="detail-id">' + esc(id) + '</span> <span class="status" id="detail-status"></span></h2>' +
    '<div class="tools">' + ["pause", "resume", "terminate", "restart", "delete"].map((a) => '<button data-action="' + a + '"' + (a === "delete" ? ' class="danger"' : "") + ">" + a[0].toUpperCase() + a.slice(1) + (a === "terminate" || a === "restart" || a === "delete" ? "…" : "") + "</button>").join("") +
    '<span class="muted">·</span><input id="event-type" placeholder="event type" size="12"><input id="event-payload" placeholder="payload JSON" size="16"><button id="send-event" class="primary">Send event</button></div>' +
    '<div class="summary" id="summary"></div>' +
    '<div class="grid3"><div><h2>Input params</h2><pre id="params"></pre></div><div><h2>Output</h2><pre id="output"></pre></div><div><h2>Error</h2><pre id="error" class="error"></pre></div></div>' +
    '<h2>Step history</h2><div class="tools"><input id="step-search" type="search" placeholder="search steps by name" size="22"><select id="step-kind"></select><span class="muted">newest first · + shows attempts, config and output</span></div>' +
    '<table><thead><tr><th></th><th>step</th><th>outcome</th><th>start</th><th>end</th><th>duration</th><th></th></tr></thead><tbody id="steps"></tbody></table>' +
    '<div class="grid2"><div><h2>Machine</h2><div id="diagram"><p class="muted">Connecting to the live inspector…</p></div></div><div><h2>Log</h2><div class="tools"><span id="log-note" class="muted">Reading the log…</span><button id="log-older" class="small" hidden>Older records</button></div><div class="timeline" id="timeline"></div></div></div>';
  $("step-search").addEventListener("input", drawSteps);
  $("step-kind").addEventListener("change", drawSteps);
  if (state.socket) state.socket.close();
  await render();
  const url = new URL("/api" + instancePath(id) + "/inspect", location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  // A WebSocket cannot send the token as a header, and a URL must not carry it: a ticket for this path stands in for it.
  const { ticket } = await api("/tickets", { method: "POST", body: JSON.stringify({ path: url.pathname }) });
  if (state.selected !== id) return;
  url.searchParams.set("ticket", ticket);
  const socket = new WebSocket(url);
  state.socket = socket;
  let pending;
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    // The socket first says how far the log goes (docs/inspection.md): the log view starts from there.
    if (event.type === "@durable-machines.tail") loadNewest(event.seq).then(() => { if (state.selected === id) render(); });
    if (event.type.startsWith("@durable-machines.")) return;
    if (event.type === "@xstate.actor" && event.definition && event.sessionId === id) state.definition = JSON.parse(event.definition);
    if (event.sessionId === id && event.snapshot && event.snapshot.context) state.context = event.snapshot.context;
    clearTimeout(pending);
    pending = setTimeout(() => { if (state.selected === id) render(); }, 50);
  });
}

async function render() {
  const id = state.selected;
  // Renders overlap (socket messages, actions): one that answers after a later one has drawn would draw older state.
  const turn = ++state.renders;
  if (!id) return;
  try {
    const [status, { steps }] = await Promise.all([api(instancePath(id)), allSteps(id), loadNewer()]);
    if (state.selected !== id || turn < state.drawn) return;
    state.drawn = turn;
    const { records, created } = state.log;
    const last = records[records.length - 1];
    $("detail-status").textContent = status.status;
    $("detail-status").className = "status " + status.status;
    document.querySelectorAll("#detail [data-action]").forEach((button) => { button.disabled = !allowed(button.dataset.action, status.status); });
    const completed = steps.filter((s) => s.success === true && !["event", "timer", "rollback"].includes(s.kind)).length;
    const duration = created && last ? span((FINISHED.includes(status.status) ? last.at : Date.now()) - created.at) : "";
    $("summary").innerHTML = "<div><span>Status</span>" + esc(status.status) + "</div><div><span>Steps completed</span>" + completed + "</div><div><span>Duration</span>" + duration + "</div>";
    $("params").textContent = !created ? "" : created.data.params === undefined ? "none" : JSON.stringify(created.data.params, null, 2);
    $("output").textContent = status.output === undefined ? "none" : JSON.stringify(status.output, null, 2);
    $("error").textContent = status.error ? status.error.name + ": " + status.error.message : "none";
    state.steps = steps;
    drawSteps();
    const dag = state.definition && state.definition.meta && state.definition.meta.dag;
    if (dag) {
      $("diagram").innerHTML = drawDag(dag, status.value, steps, state.context, FINISHED.includes(status.status));
      place($("diagram"));
    }
    else if (state.definition) $("diagram").innerHTML = drawState(state.definition.id || state.workflow, state.definition, "", activePaths(status.value, ""));
    if (!records.length) return;
    const spans = durations(records);
    const grew = $("timeline").childElementCount !== records.length;
    const fromBottom = $("timeline").scrollHeight - $("timeline").scrollTop;
    $("timeline").innerHTML = records.map((r, i) => { const [kind, text] = describe(r); return '<div class="' + kind + '">' + time(r.at) + " · " + esc(text) + spans[i] + "</div>"; }).join("");
    // New records keep the view at the bottom; older ones added above keep the records in view where they were.
    if (grew) $("timeline").scrollTop = state.log.olderAdded ? $("timeline").scrollHeight - fromBottom : $("timeline").scrollHeight;
    state.log.olderAdded = false;
    const total = last.seq;
    $("log-note").textContent = records[0].seq === 1 ? "all " + total + " records" : "showing the newest " + records.length + " of " + total + " records";
    $("log-older").hidden = records[0].seq === 1;
  } catch (error) { failed(error); }
}

$("detail").addEventListener("click", async (event) => {
  const id = state.selected;
  const target = event.target;
  try {
    if (target.dataset.action) return act(target.dataset.action, id);
    if (target.id === "log-older") {
      await loadOlder();
      state.log.olderAdded = true;
      return render();
    }
    if (target.id === "send-event") {
      const payload = parseJson($("event-payload").value, "The payload");
      await api(instancePath(id) + "/events", { method: "POST", body: JSON.stringify({ type: $("event-type").value, payload }) });
      say("event " + $("event-type").value + " sent");
      return refresh();
    }
    if (target.classList.contains("expand")) {
      const key = target.closest("tr.step").dataset.key;
      if (!state.expanded.delete(key)) state.expanded.add(key);
      return drawSteps();
    }
    if (target.classList.contains("restart-from")) {
      const answer = await ask("Restart " + id + " from this step?", "Saved state for this step and later steps will be cleared, while earlier completed steps are kept.");
      if (!answer.ok) return;
      await api(instancePath(id) + "/restart", { method: "POST", body: JSON.stringify({ from: target.dataset.key }) });
      say("restarted " + id + " from " + target.dataset.key);
      return refresh();
    }
  } catch (error) { failed(error); }
});

setInterval(() => { if (state.workflow && $("token").value) list().catch(() => undefined); }, 5000);
start();
`;

/**
 * What the page may load and who may frame it: its own script, stylesheet
 * and API (fetch and the inspect socket) and nothing else, nothing inline,
 * no frame around it. The page holds the API token and a "Delete all"
 * button, so another site must not run script in it or frame it to trick a
 * click.
 */
export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  "content-security-policy": DASHBOARD_CSP,
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const FILES = new Map([
  ["/", { body: DASHBOARD_HTML, type: "text/html; charset=utf-8" }],
  ["/dashboard.js", { body: DASHBOARD_JS, type: "text/javascript; charset=utf-8" }],
  ["/dashboard.css", { body: DASHBOARD_CSS, type: "text/css; charset=utf-8" }],
]);

/**
 * The dashboard's answer for a path under `/` (the page, its script and its
 * stylesheet), with the security headers above, or undefined when the path is
 * not the dashboard's.
 */
export function serveDashboard(path: string): Response | undefined {
  const file = FILES.get(path);
  if (!file) return undefined;
  return new Response(file.body, { headers: { "content-type": file.type, ...SECURITY_HEADERS } });
}
