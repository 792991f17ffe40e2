import type { InstanceStatusName } from "../../core/status";
import { ACTION_LABELS, ACTIONS, allowed, isFinished, runAction, type Action } from "../actions";
import type { Api, InstanceSummary } from "../api";
import { badge, statusLabel, timeText } from "../components/bits";
import { copyButton } from "../components/copy-button";
import { icon } from "../components/icons";
import { confirmAction, parseJsonField } from "../components/confirm";
import type { Notices } from "../components/notices";
import { byId, fill, h } from "../dom";
import { duration, shortId } from "../format";
import { routeUrl } from "../router";

/** The statuses a workflow's counts and filter offer, in the order people read them. */
const STATUSES: readonly InstanceStatusName[] = ["running", "waiting", "paused", "waitingForPause", "rollingBack", "complete", "errored", "terminated", "queued"];
/** Instances a page asks for: the API pages newest first, so "Next page" continues the order. */
const PAGE = 100;

export interface WorkflowViewHost {
  api: Api;
  notices: Notices;
  /** Opens an instance's view (a new history entry). */
  openInstance(id: string): void;
  /** Sets the status filter (a new history entry). */
  filterBy(status: string | undefined): void;
  /** An instance was deleted, or all were. */
  deleted(id: string | undefined): void;
  /** An action changed an instance: the open instance redraws. */
  changed(id: string): void;
}

/**
 * A workflow's instances: counts per status (each a filter), the list newest
 * first with compact icon actions, the trigger form and delete all. It is
 * refreshed by what the user does and by the open instance's event stream,
 * never on a timer, so "Next page" stays as it was.
 */
export class WorkflowView {
  private workflow = "";
  private status: string | undefined;
  private selected: string | undefined;
  private rows: InstanceSummary[] = [];
  private cursor: string | undefined;
  /** Each load's number: an answer to an older load is dropped. */
  private loads = 0;
  private readonly table = byId("instances", HTMLTableSectionElement);
  private readonly filter = byId("filter", HTMLSelectElement);
  private readonly more = byId("more", HTMLButtonElement);

  constructor(private readonly host: WorkflowViewHost) {
    this.filter.append(...STATUSES.map((status) => h("option", { value: status }, statusLabel(status))));
    this.filter.addEventListener("change", () => host.filterBy(this.filter.value || undefined));
    byId("counts", HTMLElement).addEventListener("click", (event) => {
      const card = (event.target as Element).closest<HTMLElement>(".count");
      if (card) host.filterBy(this.status === card.dataset.status ? undefined : card.dataset.status);
    });
    byId("refresh", HTMLButtonElement).addEventListener("click", () => {
      host.notices.clear();
      void this.refresh();
    });
    this.more.addEventListener("click", () => void this.load(true));
    this.table.addEventListener("click", (event) => this.clicked(event));
    this.wireTrigger();
    byId("delete-all", HTMLButtonElement).addEventListener("click", () => void this.deleteAll());
  }

  /** Shows a workflow's instances with a filter, the selected one marked; loads again only when the workflow or the filter changed. */
  show(workflow: string, status: string | undefined, selected: string | undefined): void {
    const changed = workflow !== this.workflow || status !== this.status;
    this.workflow = workflow;
    this.status = status;
    this.selected = selected;
    this.filter.value = status ?? "";
    if (changed) {
      this.rows = [];
      this.cursor = undefined;
      fill(this.table, h("tr", {}, h("td", { colspan: 5, class: "muted" }, "Loading…")));
      void this.refresh();
    } else this.draw();
  }

  /** The counts and the rows loaded so far, read again. */
  async refresh(): Promise<void> {
    await this.load(false);
  }

  private async load(more: boolean): Promise<void> {
    const turn = ++this.loads;
    const { api, notices } = this.host;
    try {
      const limit = more ? PAGE : Math.min(1000, Math.max(PAGE, this.rows.length));
      const [page, counts] = await Promise.all([
        api.list(this.workflow, { limit, ...(this.status ? { status: this.status } : {}), ...(more && this.cursor ? { cursor: this.cursor } : {}) }),
        api.counts(this.workflow),
      ]);
      if (turn !== this.loads) return;
      this.rows = more ? [...this.rows, ...page.instances] : page.instances;
      this.cursor = page.cursor;
      this.drawCounts(counts);
      this.draw();
    } catch (error) {
      if (turn !== this.loads) return;
      notices.fail(error);
      if (!this.rows.length) fill(this.table, h("tr", {}, h("td", { colspan: 5, class: "error" }, "Could not load the instances.")));
    }
  }

  private drawCounts(counts: Partial<Record<InstanceStatusName, number>>): void {
    fill(
      byId("counts", HTMLElement),
      STATUSES.filter((status) => status !== "queued").map((status) =>
        h(
          "button",
          { type: "button", class: `count${this.status === status ? " active" : ""}`, "data-status": status, "aria-pressed": this.status === status ? "true" : "false" },
          h("span", { class: "n" }, counts[status] ?? 0),
          h("span", { class: "label" }, statusLabel(status)),
        ),
      ),
    );
  }

  private draw(): void {
    this.more.hidden = !this.cursor;
    fill(this.table, this.rows.length ? this.rows.map((row) => this.row(row)) : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No instances.")));
  }

  private row(instance: InstanceSummary): HTMLTableRowElement {
    const { id, status, createdAt, updatedAt } = instance;
    const href = routeUrl({ view: "instance", workflow: this.workflow, id, ...(this.status ? { status: this.status } : {}) });
    const actions = ACTIONS.filter((action) => allowed(action, status)).map((action) => {
      const word = ACTION_LABELS[action].replace("…", "");
      return h("button", { type: "button", class: `icon${action === "delete" ? " danger" : ""}`, "data-row-action": action, title: word, "aria-label": `${word} ${id}` }, icon(action));
    });
    return h(
      "tr",
      { class: `row${id === this.selected ? " selected" : ""}`, "data-id": id },
      h("td", { class: "id-cell" }, h("a", { class: "open id-text", href, title: id }, shortId(id)), copyButton("id", () => id, true)),
      h("td", {}, badge(statusLabel(status), status)),
      h("td", {}, timeText(createdAt)),
      h("td", { class: "wide-only" }, duration((isFinished(status) ? updatedAt : Date.now()) - createdAt)),
      h("td", { class: "actions" }, actions),
    );
  }

  private clicked(event: MouseEvent): void {
    const target = event.target as Element;
    const row = target.closest<HTMLElement>("tr.row");
    const id = row?.dataset.id;
    if (!id) return;
    const action = target.closest<HTMLElement>("[data-row-action]")?.dataset.rowAction as Action | undefined;
    if (action) return void this.act(action, id);
    if (target.closest("button")) return;
    // A plain click on the row or its link opens the instance here; a modified click on the link opens a tab as links do.
    if (target.closest("a") && (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0)) return;
    event.preventDefault();
    this.host.openInstance(id);
  }

  private async act(action: Action, id: string): Promise<void> {
    const { api, notices } = this.host;
    notices.clear();
    try {
      if (!(await runAction(api, this.workflow, id, action))) return;
      notices.say(`${action} ${id} done`);
      if (action === "delete") this.host.deleted(id);
      else this.host.changed(id);
      await this.refresh();
    } catch (error) {
      notices.fail(error);
    }
  }

  private wireTrigger(): void {
    const dialog = byId("trigger", HTMLDialogElement);
    const idField = byId("trigger-id", HTMLInputElement);
    const params = byId("trigger-params", HTMLTextAreaElement);
    const error = byId("trigger-error", HTMLElement);
    byId("trigger-open", HTMLButtonElement).addEventListener("click", () => {
      this.host.notices.clear();
      error.textContent = "";
      dialog.showModal();
    });
    byId("trigger-cancel", HTMLButtonElement).addEventListener("click", () => dialog.close());
    byId("trigger-submit", HTMLButtonElement).addEventListener("click", async (event) => {
      event.preventDefault();
      try {
        const id = idField.value.trim();
        const created = await this.host.api.create(this.workflow, { params: parseJsonField(params.value, "Params"), ...(id ? { id } : {}) });
        dialog.close();
        idField.value = "";
        this.host.notices.say(`Created ${created.id}`);
        await this.refresh();
        this.host.openInstance(created.id);
      } catch (failure) {
        error.textContent = failure instanceof Error ? failure.message : String(failure);
      }
    });
  }

  private async deleteAll(): Promise<void> {
    const { api, notices } = this.host;
    notices.clear();
    const answer = await confirmAction(`Delete all instances of ${this.workflow}?`, "Every instance of this workflow and its whole log are wiped. This cannot be undone.");
    if (!answer.ok) return;
    try {
      const { deleted } = await api.deleteAll(this.workflow);
      notices.say(`Deleted ${deleted} instance${deleted === 1 ? "" : "s"}`);
      this.host.deleted(undefined);
      await this.refresh();
    } catch (error) {
      notices.fail(error);
    }
  }
}
