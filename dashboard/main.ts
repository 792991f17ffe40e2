import { Api } from "./api";
import { refreshTimes } from "./components/bits";
import { Notices } from "./components/notices";
import { byId, fill, h } from "./dom";
import { currentRoute, navigate, parseRoute, type Route } from "./router";
import { InstanceView } from "./views/instance-view";
import { WorkflowView } from "./views/workflow-view";

/** The token is kept in this browser's localStorage, never in a URL. */
const TOKEN_KEY = "dm-token";
/** How often relative times ("5 minutes ago") are brought up to date: the browser's clock, no request. */
const TICK_MS = 30_000;

const notices = new Notices();
const tokenField = byId("token", HTMLInputElement);
const workflowSelect = byId("workflow", HTMLSelectElement);
const main = byId("main", HTMLElement);
tokenField.value = localStorage.getItem(TOKEN_KEY) ?? "";
const api = new Api(() => tokenField.value);

let workflows: string[] = [];
let route: Route = currentRoute();
let instance: InstanceView | undefined;

const go = (next: Route, replace = false) => navigate(next, show, replace);
const workflowOf = (at: Route) => (at.view === "home" ? "" : at.workflow);
const statusOf = (at: Route) => (at.view === "home" ? {} : at.status ? { status: at.status } : {});

const list = new WorkflowView({
  api,
  notices,
  openInstance: (id) => go({ view: "instance", workflow: workflowOf(route), id, ...statusOf(route) }),
  filterBy: (status) => go({ view: "workflow", workflow: workflowOf(route), ...(status ? { status } : {}) }),
  deleted: (id) => {
    if (route.view === "instance" && (id === undefined || id === route.id)) go({ view: "workflow", workflow: route.workflow, ...statusOf(route) });
  },
  changed: (id) => {
    if (instance?.id === id) instance.changed();
  },
});

/** Shows a route: the workflow's list always (the whole width when no instance is open), the instance beside it (alone on a narrow screen). */
function show(next: Route): void {
  route = next;
  if (!workflows.length) return;
  if (next.view === "home" || !workflows.includes(next.workflow)) {
    if (next.view !== "home") notices.fail(new Error(`No workflow is named "${next.workflow}" here: showing ${workflows[0]}.`));
    return go({ view: "workflow", workflow: workflows[0]! }, true);
  }
  workflowSelect.value = next.workflow;
  list.show(next.workflow, next.status, next.view === "instance" ? next.id : undefined);
  main.classList.toggle("instance-open", next.view === "instance");
  if (next.view === "instance" && instance?.workflow === next.workflow && instance.id === next.id) {
    instance.showStep(next.step);
    instance.showRecord(next.record);
  } else if (next.view === "instance") {
    instance?.close();
    instance = new InstanceView(
      {
        api,
        notices,
        openStep: (step) => go({ view: "instance", workflow: next.workflow, id: next.id, ...statusOf(route), ...(step === undefined ? {} : { step }) }),
        deleted: () => go({ view: "workflow", workflow: next.workflow, ...statusOf(route) }),
      },
      next.workflow,
      next.id,
      next.step,
      next.status,
      next.record,
    );
  } else {
    instance?.close();
    instance = undefined;
    // With no instance open the list takes the whole width (layout.css), and the empty panel goes.
    fill(byId("detail", HTMLElement));
  }
  document.title = next.view === "instance" ? `${next.id} · ${next.workflow} · durable-machines` : `${next.workflow} · durable-machines`;
}

/** Reads the workflows with the token, then shows the route. */
async function start(): Promise<void> {
  notices.clear();
  if (!tokenField.value) return notices.say("Enter the API token (API_TOKEN) to begin.");
  try {
    workflows = await api.workflows();
    fill(workflowSelect, workflows.map((name) => h("option", { value: name }, name)));
    show(currentRoute());
  } catch (error) {
    notices.fail(error);
  }
}

tokenField.addEventListener("change", () => {
  localStorage.setItem(TOKEN_KEY, tokenField.value);
  void start();
});
workflowSelect.addEventListener("change", () => go({ view: "workflow", workflow: workflowSelect.value }));
window.addEventListener("popstate", () => show(currentRoute()));
// Links inside the app change the view without a page load; a click with a modifier opens a tab, as links do.
document.addEventListener("click", (event) => {
  const link = (event.target as Element).closest<HTMLAnchorElement>("a[data-link]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  go(parseRoute(link.pathname, link.search));
});
setInterval(() => refreshTimes(), TICK_MS);
void start();
