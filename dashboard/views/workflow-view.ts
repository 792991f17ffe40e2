import type { InstanceStatusName } from "../../core/status";
import { ACTION_LABELS, ACTIONS, allowed, isFinished, runAction, type Action } from "../actions";
import type { Api, Counts, InstanceSummary, WorkflowChange } from "../api";
import { badge, statusLabel, timeText } from "../components/bits";
import { copyButton } from "../components/copy-button";
import { icon } from "../components/icons";
import { confirmAction, parseJsonField } from "../components/confirm";
import { sendEventDialog } from "../components/event-dialog";
import type { Notices } from "../components/notices";
import { byId, fill, h } from "../dom";
import { duration, shortId, showing } from "../format";
import { applyChange, withPage, type Position } from "../live-list";
import { routeUrl } from "../router";
import { followWorkflow } from "../workflow-changes";

/** The statuses a workflow's counts and filter offer, in the order people read them. */
const STATUSES: readonly InstanceStatusName[] = ["running", "waiting", "paused", "waitingForPause", "rollingBack", "complete", "errored", "terminated", "queued"];
/** Instances a page asks for unless the page size select says otherwise: the API pages newest first, so "Next page" continues the order. */
const PAGE = 100;
/** The largest read of the list: a sync reads again as many rows as are shown, up to this. */
const MOST_READ = 1000;

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
 * first with compact icon actions (send event among them), the trigger form
 * and delete all. It is live from the workflow's change stream: a row comes,
 * moves on or goes as the server tells, the counts with it, and the stream's
 * `sync` (on each connection) reads the list again. Nothing polls, and
 * "Next page" reads the page after the last one read, in the same order.
 */
export class WorkflowView {
  private workflow = "";
  private status: string | undefined;
  private selected: string | undefined;
  private rows: InstanceSummary[] = [];
  private cursor: string | undefined;
  /** How many instances "Next page" adds (the page size select). */
  private pageSize = PAGE;
  /** The workflow's counts as last told: "Showing 1–N of M" takes M from them, for the filter in force. */
  private counts: Counts = {};
  /** The last row of the last page read, while more pages follow: a new instance past it comes with the next page. */
  private boundary: Position | undefined;
  /** Counts the workflows and filters shown: a read for one no longer shown is dropped. */
  private shown = 0;
  /** The read under way, or the last one: the next waits for it. */
  private reading: Promise<void> = Promise.resolve();
  /** Changes that came while a read was under way, applied to its answer in order. */
  private held: WorkflowChange[] | undefined;
  private feed: AbortController | undefined;
  private live = false;
  /** The drawn row of each instance, and what it was drawn from: a row is built again only when that changed. */
  private readonly drawn = new Map<string, { tr: HTMLTableRowElement; key: string }>();
  private drawQueued = false;
  private readonly table = byId("instances", HTMLTableSectionElement);
  private readonly filter = byId("filter", HTMLSelectElement);
  private readonly more = byId("more", HTMLButtonElement);
  private readonly showingNote = byId("showing", HTMLElement);
  private readonly pageSizeSelect = byId("page-size", HTMLSelectElement);
  private readonly liveNote = byId("live", HTMLElement);

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
    this.pageSizeSelect.value = String(PAGE);
    // A smaller page reads the first rows again; a larger one keeps what is shown and pages on by the new size.
    this.pageSizeSelect.addEventListener("change", () => {
      this.pageSize = Number(this.pageSizeSelect.value);
      if (this.rows.length > this.pageSize) {
        this.rows = [];
        this.drawn.clear();
      }
      void this.refresh();
    });
    this.table.addEventListener("click", (event) => this.clicked(event));
    this.wireTrigger();
    byId("delete-all", HTMLButtonElement).addEventListener("click", () => void this.deleteAll());
  }

  /** Shows a workflow's instances with a filter, the selected one marked; follows another workflow's changes, or reads again for another filter. */
  show(workflow: string, status: string | undefined, selected: string | undefined): void {
    const otherWorkflow = workflow !== this.workflow;
    const otherStatus = status !== this.status;
    this.workflow = workflow;
    this.status = status;
    this.selected = selected;
    this.filter.value = status ?? "";
    if (!otherWorkflow && !otherStatus) return this.scheduleDraw();
    this.shown++;
    this.held = undefined;
    this.rows = [];
    this.cursor = undefined;
    this.boundary = undefined;
    this.counts = {};
    this.drawn.clear();
    fill(this.table, h("tr", {}, h("td", { colspan: 4, class: "muted" }, "Loading…")));
    // Read now, so the rows do not wait for the stream; a new stream's sync reads them again, with what came meanwhile.
    if (otherWorkflow) this.follow();
    void this.refresh();
  }

  /** The counts and the rows read so far, read again. */
  async refresh(): Promise<void> {
    await this.load(false);
  }

  private follow(): void {
    this.feed?.abort();
    const feed = new AbortController();
    this.feed = feed;
    this.setLive(false);
    this.liveNote.textContent = "connecting…";
    followWorkflow(this.host.api, this.workflow, feed.signal, (change) => this.changed(change), (live) => this.setLive(live)).catch((error: unknown) => {
      if (feed.signal.aborted) return;
      this.setLive(false);
      this.host.notices.fail(error);
      void this.refresh();
    });
  }

  private setLive(live: boolean): void {
    this.live = live;
    this.liveNote.dataset.live = String(live);
    this.liveNote.textContent = live ? "live" : "reconnecting…";
  }

  private changed(change: WorkflowChange): void {
    if (change.type === "sync") {
      this.drawCounts(change.counts);
      void this.refresh();
    } else if (this.held) this.held.push(change);
    else this.apply(change);
  }

  private apply(change: WorkflowChange): void {
    this.rows = applyChange({ rows: this.rows, status: this.status, boundary: this.boundary }, change);
    this.drawCounts(change.counts);
    this.scheduleDraw();
  }

  /**
   * Reads the list (or, with `more`, the page after the last one read) once
   * the read under way is done: reads run one at a time, so a `sync` that
   * comes while "Next page" is read reads both pages again, rather than one
   * answer dropping the other. A read for a workflow or filter no longer
   * shown is skipped, and its answer dropped.
   */
  private load(more: boolean): Promise<void> {
    const shown = this.shown;
    this.reading = this.reading.then(() => (shown === this.shown ? this.read(more) : undefined));
    return this.reading;
  }

  private async read(more: boolean): Promise<void> {
    const shown = this.shown;
    const { api, notices } = this.host;
    this.held = [];
    try {
      const limit = more ? this.pageSize : Math.min(MOST_READ, Math.max(this.pageSize, this.rows.length));
      const [page, counts] = await Promise.all([
        api.list(this.workflow, { limit, ...(this.status ? { status: this.status } : {}), ...(more && this.cursor ? { cursor: this.cursor } : {}) }),
        more ? undefined : api.counts(this.workflow),
      ]);
      if (shown !== this.shown) return;
      this.rows = more ? withPage(this.rows, page.instances) : page.instances;
      this.cursor = page.cursor;
      this.boundary = page.cursor === undefined ? undefined : page.instances.at(-1);
      if (counts) this.drawCounts(counts);
      this.draw();
    } catch (error) {
      if (shown !== this.shown) return;
      notices.fail(error);
      if (!this.rows.length) {
        this.drawn.clear();
        fill(this.table, h("tr", {}, h("td", { colspan: 4, class: "error" }, "Could not load the instances.")));
      }
    } finally {
      const held = this.held ?? [];
      this.held = undefined;
      if (shown === this.shown) for (const change of held) this.apply(change);
    }
  }

  private drawCounts(counts: Counts): void {
    this.counts = counts;
    this.drawShowing();
    const box = byId("counts", HTMLElement);
    const shown = STATUSES.filter((status) => status !== "queued");
    if (box.childElementCount !== shown.length) {
      fill(
        box,
        shown.map((status) =>
          h("button", { type: "button", class: "count", "data-status": status }, h("span", { class: "n" }, 0), h("span", { class: "label" }, statusLabel(status))),
        ),
      );
    }
    // Changed in place, so a count that has focus keeps it as the numbers move.
    for (const card of box.querySelectorAll<HTMLButtonElement>(".count")) {
      const status = card.dataset.status as InstanceStatusName;
      card.querySelector(".n")!.textContent = String(counts[status] ?? 0);
      card.classList.toggle("active", this.status === status);
      card.setAttribute("aria-pressed", this.status === status ? "true" : "false");
    }
  }

  /** "Showing 1–N of M": N the rows shown, M the instances the counts give for the filter in force. */
  private drawShowing(): void {
    const total = this.status ? (this.counts[this.status as InstanceStatusName] ?? 0) : Object.values(this.counts).reduce((sum, n) => sum + (n ?? 0), 0);
    this.showingNote.textContent = showing(this.rows.length, total);
  }

  /** Draws once per frame, however many changes came in it: a burst of 200 creations is one draw. */
  private scheduleDraw(): void {
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(() => this.draw());
  }

  /**
   * Brings the table to the rows: a row whose instance did not change is kept
   * (and keeps its focus and hover), a new one is inserted where it belongs,
   * one that left is removed.
   */
  private draw(): void {
    this.drawQueued = false;
    this.more.hidden = !this.cursor;
    this.drawShowing();
    if (!this.rows.length) {
      this.drawn.clear();
      fill(this.table, h("tr", {}, h("td", { colspan: 4, class: "muted" }, "No instances.")));
      return;
    }
    const wanted = this.rows.map((row) => {
      const key = `${row.status} ${row.updatedAt} ${row.id === this.selected} ${this.status ?? ""}`;
      const known = this.drawn.get(row.id);
      if (known?.key === key) return known.tr;
      const tr = this.row(row);
      this.drawn.set(row.id, { tr, key });
      return tr;
    });
    const kept = new Set<Element>(wanted);
    for (const [id, { tr }] of this.drawn) if (!kept.has(tr)) this.drawn.delete(id);
    for (const child of [...this.table.children]) if (!kept.has(child)) child.remove();
    wanted.forEach((tr, index) => {
      const there = this.table.children[index];
      if (there !== tr) this.table.insertBefore(tr, there ?? null);
    });
  }

  private row(instance: InstanceSummary): HTMLTableRowElement {
    const { id, status, createdAt, updatedAt } = instance;
    const href = routeUrl({ view: "instance", workflow: this.workflow, id, ...(this.status ? { status: this.status } : {}) });
    const actions = ACTIONS.filter((action) => allowed(action, status)).map((action) => {
      const word = ACTION_LABELS[action].replace("…", "");
      return h("button", { type: "button", class: `icon${action === "delete" ? " danger" : ""}`, "data-row-action": action, title: word, "aria-label": `${word} ${id}` }, icon(action));
    });
    const send = !isFinished(status) && h("button", { type: "button", class: "icon", "data-row-action": "send-event", title: "Send event", "aria-label": `Send an event to ${id}` }, icon("send"));
    return h(
      "tr",
      { class: `row${id === this.selected ? " selected" : ""}`, "data-id": id },
      h("td", { class: "id-cell" }, h("a", { class: "open id-text", href, title: id }, shortId(id)), copyButton("id", () => id, true)),
      h("td", {}, h("span", { class: "when" }, badge(statusLabel(status), status), timeText(createdAt))),
      h("td", { class: "wide-only duration" }, duration((isFinished(status) ? updatedAt : Date.now()) - createdAt)),
      h("td", { class: "actions" }, send, actions),
    );
  }

  private clicked(event: MouseEvent): void {
    const target = event.target as Element;
    const row = target.closest<HTMLElement>("tr.row");
    const id = row?.dataset.id;
    if (!id) return;
    const action = target.closest<HTMLElement>("[data-row-action]")?.dataset.rowAction as Action | "send-event" | undefined;
    if (action === "send-event") return void this.sendEvent(id);
    if (action) return void this.act(action, id);
    if (target.closest("button")) return;
    // A plain click on the row or its link opens the instance here; a modified click on the link opens a tab as links do.
    if (target.closest("a") && (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0)) return;
    event.preventDefault();
    this.host.openInstance(id);
  }

  /** What an action changed comes on the change stream; while it is down, the list is read again instead. */
  private async afterAction(): Promise<void> {
    if (!this.live) await this.refresh();
  }

  private async act(action: Action, id: string): Promise<void> {
    const { api, notices } = this.host;
    notices.clear();
    try {
      if (!(await runAction(api, this.workflow, id, action))) return;
      notices.say(`${action} ${id} done`);
      if (action === "delete") this.host.deleted(id);
      else this.host.changed(id);
      await this.afterAction();
    } catch (error) {
      notices.fail(error);
    }
  }

  private async sendEvent(id: string): Promise<void> {
    const { api, notices } = this.host;
    notices.clear();
    const sent = await sendEventDialog(id, (type, payload) => api.sendEvent(this.workflow, id, type, payload));
    if (sent === undefined) return;
    notices.say(`event ${sent} sent to ${id}`);
    this.host.changed(id);
    await this.afterAction();
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
        await this.afterAction();
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
      await this.afterAction();
    } catch (error) {
      notices.fail(error);
    }
  }
}
