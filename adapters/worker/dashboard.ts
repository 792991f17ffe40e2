/**
 * The local dashboard, served at `/` by every Worker made with
 * createWorkflows: one self-contained page (no build step, nothing fetched
 * from the network) over the HTTP API and the live inspection socket.
 */
export const DASHBOARD_HTML = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>durable-machines</title>
<style>
  :root { --bg: #f7f7f8; --panel: #fff; --line: #dcdde3; --text: #1d1e24; --muted: #6b6e7b; --accent: #3b5bdb; --ok: #2b8a3e; --bad: #c92a2a; --warn: #e67700; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--text); background: var(--bg); }
  header { display: flex; gap: 12px; align-items: center; padding: 10px 16px; background: var(--panel); border-bottom: 1px solid var(--line); }
  header h1 { font-size: 16px; margin: 0 12px 0 0; }
  main { display: grid; grid-template-columns: minmax(320px, 420px) 1fr; gap: 16px; padding: 16px; }
  section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px; min-width: 0; }
  h2 { font-size: 14px; margin: 0 0 8px; }
  input, select, button, textarea { font: inherit; }
  input, select, textarea { border: 1px solid var(--line); border-radius: 6px; padding: 4px 8px; background: #fff; }
  button { border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; background: #fff; cursor: pointer; }
  button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  tr.row { cursor: pointer; } tr.row:hover, tr.row.selected { background: #eef2ff; }
  .status { display: inline-block; padding: 0 6px; border-radius: 10px; font-size: 12px; background: #e9ecef; }
  .status.complete { background: #d3f9d8; color: var(--ok); } .status.errored { background: #ffe3e3; color: var(--bad); }
  .status.running { background: #dbe4ff; color: var(--accent); } .status.waiting { background: #fff3bf; color: var(--warn); }
  .status.paused, .status.waitingForPause, .status.terminated { background: #e9ecef; color: var(--muted); }
  .row-tools { display: flex; gap: 6px; flex-wrap: wrap; align-items: center; margin: 8px 0; }
  .muted { color: var(--muted); }
  .error { color: var(--bad); white-space: pre-wrap; }
  .state { border: 1px solid var(--line); border-radius: 8px; padding: 6px 8px; margin: 6px 0 0; background: #fff; }
  .state > .name { font-weight: 600; }
  .state.active { border-color: var(--accent); box-shadow: 0 0 0 2px #bac8ff; background: #f3f6ff; }
  .state.final > .name::after { content: " (final)"; color: var(--muted); font-weight: 400; }
  .state.parallel > .children { display: flex; gap: 8px; flex-wrap: wrap; } .state.parallel > .children > .state { flex: 1; }
  .transitions { font-size: 12px; color: var(--muted); }
  .timeline { max-height: 360px; overflow: auto; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
  .timeline div { padding: 2px 0; border-bottom: 1px dashed #eee; }
  .timeline .failed { color: var(--bad); } .timeline .ok { color: var(--ok); }
  pre { background: #f8f9fa; border-radius: 6px; padding: 8px; overflow: auto; max-height: 200px; }
  .grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
</style>
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
    <h2>Instances</h2>
    <div class="row-tools">
      <label>Status <select id="filter"><option value="">all</option><option>running</option><option>waiting</option><option>paused</option><option>waitingForPause</option><option>complete</option><option>errored</option><option>terminated</option></select></label>
      <button id="refresh">Refresh</button>
    </div>
    <table><thead><tr><th>id</th><th>status</th><th>started</th><th>duration</th></tr></thead><tbody id="instances"></tbody></table>
    <div class="row-tools"><button id="more" hidden>Next page</button></div>
    <h2>New instance</h2>
    <div class="row-tools"><input id="new-id" placeholder="id (optional)" size="14"><input id="new-params" placeholder='params, e.g. {"n":1}' size="22"><button id="create" class="primary">Create</button></div>
  </section>
  <section id="detail">
    <p class="muted">Choose an instance.</p>
  </section>
</main>
<script>
const $ = (id) => document.getElementById(id);
const state = { workflow: "", cursor: undefined, selected: undefined, socket: undefined, definition: undefined };
$("token").value = localStorage.getItem("dm-token") || "";
$("token").addEventListener("change", () => { localStorage.setItem("dm-token", $("token").value); start(); });

async function api(path, init = {}) {
  const response = await fetch("/api" + path, { ...init, headers: { authorization: "Bearer " + $("token").value, "content-type": "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ? body.error.code + ": " + body.error.message : response.status + " " + response.statusText);
  return body;
}
function say(text, isError) { $("message").textContent = text; $("message").className = isError ? "error" : "muted"; }
const esc = (text) => String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const time = (ms) => new Date(ms).toLocaleTimeString();
const span = (ms) => ms < 1000 ? ms + " ms" : ms < 60000 ? (ms / 1000).toFixed(1) + " s" : Math.round(ms / 60000) + " min";

async function start() {
  try {
    const { workflows } = await api("/workflows");
    $("workflow").innerHTML = workflows.map((w) => "<option>" + esc(w) + "</option>").join("");
    if (state.workflow && workflows.includes(state.workflow)) $("workflow").value = state.workflow;
    state.workflow = $("workflow").value;
    say("");
    await list();
  } catch (error) { say(String(error.message || error), true); }
}
async function list(more) {
  const query = new URLSearchParams({ limit: "20" });
  if ($("filter").value) query.set("status", $("filter").value);
  if (more && state.cursor) query.set("cursor", state.cursor);
  const page = await api("/workflows/" + encodeURIComponent(state.workflow) + "/instances?" + query);
  state.cursor = page.cursor;
  $("more").hidden = !page.cursor;
  const rows = page.instances.map((i) => '<tr class="row' + (i.id === state.selected ? " selected" : "") + '" data-id="' + esc(i.id) + '"><td>' + esc(i.id) + '</td><td><span class="status ' + esc(i.status) + '">' + esc(i.status) + "</span></td><td>" + time(i.createdAt) + "</td><td>" + span((["complete", "errored", "terminated"].includes(i.status) ? i.updatedAt : Date.now()) - i.createdAt) + "</td></tr>").join("");
  if (more) $("instances").insertAdjacentHTML("beforeend", rows); else $("instances").innerHTML = rows || '<tr><td colspan="4" class="muted">No instances.</td></tr>';
}
$("workflow").addEventListener("change", () => { state.workflow = $("workflow").value; state.cursor = undefined; list(); });
$("filter").addEventListener("change", () => list());
$("refresh").addEventListener("click", () => list());
$("more").addEventListener("click", () => list(true));
$("instances").addEventListener("click", (event) => { const row = event.target.closest("tr.row"); if (row) open(row.dataset.id); });
$("create").addEventListener("click", async () => {
  try {
    const body = {};
    if ($("new-id").value) body.id = $("new-id").value;
    if ($("new-params").value) body.params = JSON.parse($("new-params").value);
    const created = await api("/workflows/" + encodeURIComponent(state.workflow) + "/instances", { method: "POST", body: JSON.stringify(body) });
    say("Created " + created.id);
    await list();
    open(created.id);
  } catch (error) { say(String(error.message || error), true); }
});

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

async function open(id) {
  state.selected = id;
  state.definition = undefined;
  document.querySelectorAll("tr.row").forEach((row) => row.classList.toggle("selected", row.dataset.id === id));
  if (state.socket) state.socket.close();
  await render();
  const url = new URL("/api/workflows/" + encodeURIComponent(state.workflow) + "/instances/" + encodeURIComponent(id) + "/inspect", location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("token", $("token").value);
  const socket = new WebSocket(url);
  state.socket = socket;
  let pending;
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "@xstate.actor" && event.definition && event.sessionId === id) { state.definition = JSON.parse(event.definition); }
    clearTimeout(pending);
    pending = setTimeout(() => { if (state.selected === id) render(); }, 50);
  });
}

async function render() {
  const id = state.selected;
  if (!id) return;
  const base = "/workflows/" + encodeURIComponent(state.workflow) + "/instances/" + encodeURIComponent(id);
  try {
    const [status, history] = await Promise.all([api(base), api(base + "/history?limit=10000")]);
    const active = activePaths(status.value, "");
    const diagram = state.definition ? drawState(state.definition.id || state.workflow, state.definition, "", active) : '<p class="muted">Connecting to the live inspector…</p>';
    const spans = durations(history.records);
    const timeline = history.records.map((r, i) => { const [kind, text] = describe(r); return '<div class="' + kind + '">' + time(r.at) + " · " + esc(text) + spans[i] + "</div>"; }).join("");
    $("detail").innerHTML =
      '<h2>' + esc(id) + ' <span class="status ' + esc(status.status) + '" id="detail-status">' + esc(status.status) + "</span></h2>" +
      '<div class="row-tools"><button data-action="pause">Pause</button><button data-action="resume">Resume</button><button data-action="terminate">Terminate</button><button data-action="restart">Restart</button>' +
      '<span class="muted">·</span><input id="event-type" placeholder="event type" size="12"><input id="event-payload" placeholder="payload JSON" size="16"><button id="send-event" class="primary">Send event</button></div>' +
      '<div class="grid2"><div><h2>Machine</h2><div id="diagram">' + diagram + '</div></div><div><h2>Timeline</h2><div class="timeline" id="timeline">' + timeline + "</div></div></div>" +
      (status.output !== undefined ? "<h2>Output</h2><pre id=\\"output\\">" + esc(JSON.stringify(status.output, null, 2)) + "</pre>" : "") +
      (status.error ? '<h2>Error</h2><pre class="error">' + esc(status.error.name + ": " + status.error.message) + "</pre>" : "");
    $("timeline").scrollTop = $("timeline").scrollHeight;
  } catch (error) { say(String(error.message || error), true); }
}
document.getElementById("detail").addEventListener("click", async (event) => {
  const id = state.selected;
  const base = "/workflows/" + encodeURIComponent(state.workflow) + "/instances/" + encodeURIComponent(id);
  try {
    const action = event.target.dataset && event.target.dataset.action;
    if (action) { await api(base + "/" + action, { method: "POST", body: "{}" }); say(action + " sent"); }
    if (event.target.id === "send-event") {
      const payload = $("event-payload").value ? JSON.parse($("event-payload").value) : undefined;
      await api(base + "/events", { method: "POST", body: JSON.stringify({ type: $("event-type").value, payload }) });
      say("event " + $("event-type").value + " sent");
    }
    if (action || event.target.id === "send-event") { await render(); await list(); }
  } catch (error) { say(String(error.message || error), true); }
});
setInterval(() => { if (state.workflow && $("token").value) list().catch(() => undefined); }, 5000);
start();
</script>
</body>
</html>
`;
