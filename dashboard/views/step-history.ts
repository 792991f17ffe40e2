import type { HistoryStep } from "../../core/step-history";
import { badge, dueText, errorLine, jsonBlock, textBlock, timeText } from "../components/bits";
import { byId, fill, h } from "../dom";
import { duration } from "../format";
import { timerLabel } from "../../core/timeline";

/** Steps drawn at first, newest first, and added by each "Show more": a long run's thousands of rows would hold the page for seconds. */
const STEP_ROWS = 300;

/** A rollback step shares its key with the step it undoes; the history tells them apart by this id. */
export const stepId = (step: HistoryStep) => (step.kind === "rollback" ? "rollback:" : "") + step.key;

/** A machine's delayed transition reads "after 1 min in gated.approval", not XState's id for it; any other step by its name. */
function displayName(step: HistoryStep): string {
  const delay = (step.config as { durationMs?: unknown } | undefined)?.durationMs;
  return step.kind === "timer" && typeof delay === "number" ? timerLabel(step.key, delay, duration) : step.name;
}

/** What a step's outcome reads as, and its badge colour. */
function outcome(step: HistoryStep, retryAt: number | undefined): { label: string; kind: string } {
  if (step.success === true) return { label: "ok", kind: "ok" };
  if (step.success === false) return { label: "failed", kind: "failed" };
  if (step.cancelled) return { label: "cancelled", kind: "cancelled" };
  if (retryAt !== undefined || step.kind === "waitForEvent" || step.kind === "sleep" || step.kind === "timer") return { label: "waiting", kind: "waiting" };
  return { label: "running", kind: "running" };
}

/** When a sleep (or a machine's timer) still running wakes: its start and the duration its config records. */
function wakesAt(step: HistoryStep): number | undefined {
  if ((step.kind !== "sleep" && step.kind !== "timer") || step.end !== undefined || step.cancelled) return undefined;
  const config = step.config;
  const ms = config !== null && typeof config === "object" && !Array.isArray(config) ? config.durationMs : undefined;
  return typeof ms === "number" ? step.start + ms : undefined;
}

export interface StepHistoryHost {
  /** Opens a step (its URL), or closes the open one with undefined. */
  openStep(id: string | undefined): void;
  /** Restarts the run from a step's key. */
  restartFrom(key: string): void;
}

/**
 * The step history of the current run, newest first, with a search by name
 * and a filter by kind; the step in the URL is open: its attempts, config,
 * output and error, each with a copy button.
 */
export class StepHistory {
  private steps: HistoryStep[] = [];
  private retries = new Map<string, number>();
  private open: string | undefined;
  /** How many of the steps that match are drawn. */
  private limit = STEP_ROWS;
  private readonly search = byId("step-search", HTMLInputElement);
  private readonly kind = byId("step-kind", HTMLSelectElement);
  private readonly table = byId("steps", HTMLTableSectionElement);

  constructor(private readonly host: StepHistoryHost) {
    this.search.addEventListener("input", () => this.redraw());
    this.kind.addEventListener("change", () => this.redraw());
    this.table.addEventListener("click", (event) => {
      const target = event.target as Element;
      const row = target.closest<HTMLElement>("tr.step");
      if (target.closest(".more-steps")) {
        this.limit += STEP_ROWS;
        return this.draw();
      }
      if (!row?.dataset.key) return;
      if (target.closest(".expand")) host.openStep(this.open === row.dataset.key ? undefined : row.dataset.key);
      const restart = target.closest<HTMLElement>(".restart-from");
      if (restart?.dataset.key) host.restartFrom(restart.dataset.key);
    });
  }

  update(steps: HistoryStep[], retries: Map<string, number>): void {
    this.steps = steps;
    this.retries = retries;
    this.draw();
  }

  /** Opens the step with this id (closes any with undefined), and shows it, drawing enough rows to reach it. */
  openStep(id: string | undefined): void {
    this.open = id;
    const place = [...this.steps].reverse().findIndex((step) => stepId(step) === id);
    if (place >= this.limit) this.limit = Math.ceil((place + 1) / STEP_ROWS) * STEP_ROWS;
    this.draw();
    if (id !== undefined) this.table.querySelector(`tr.step[data-key="${CSS.escape(id)}"]`)?.scrollIntoView({ block: "nearest" });
  }

  /** A new search or filter starts again from the newest steps. */
  private redraw(): void {
    this.limit = STEP_ROWS;
    this.draw();
  }

  private draw(): void {
    const search = this.search.value.trim().toLowerCase();
    const kind = this.kind.value;
    const kinds = [...new Set(this.steps.map((step) => step.kind))];
    fill(this.kind, h("option", { value: "" }, "all kinds"), kinds.map((k) => h("option", { value: k, selected: k === kind }, k)));
    this.kind.value = kinds.includes(kind as HistoryStep["kind"]) ? kind : "";
    const shown = this.steps.filter((step) => (!kind || step.kind === kind) && (!search || step.name.toLowerCase().includes(search))).reverse();
    if (!shown.length) return fill(this.table, h("tr", {}, h("td", { colspan: 7, class: "muted" }, this.steps.length ? "No steps match." : "No steps yet.")));
    const more = shown.length - this.limit;
    fill(
      this.table,
      shown.slice(0, this.limit).map((step) => this.rows(step)),
      more > 0 &&
        h(
          "tr",
          { class: "steps-more" },
          h("td", { colspan: 7, class: "muted" }, `The newest ${this.limit} of ${shown.length} steps. `, h("button", { type: "button", class: "small more-steps" }, `Show ${Math.min(more, STEP_ROWS)} more`)),
        ),
    );
  }

  private rows(step: HistoryStep): HTMLTableRowElement[] {
    const id = stepId(step);
    const open = this.open === id;
    const retryAt = step.success === null && !step.cancelled ? this.retries.get(step.key) : undefined;
    const wake = wakesAt(step);
    const { label, kind } = outcome(step, retryAt);
    const row = h(
      "tr",
      { class: `step${open ? " open" : ""}`, "data-key": id, "data-kind": step.kind },
      h("td", {}, h("button", { type: "button", class: "small expand", title: "attempts, config and output", "aria-expanded": open ? "true" : "false" }, open ? "−" : "+")),
      h("td", { class: "name" }, displayName(step), step.count > 1 && h("span", { class: "muted" }, ` #${step.count}`), h("span", { class: `tag ${step.kind}` }, step.kind)),
      h("td", {}, badge(label, kind), retryAt !== undefined && dueText("retry at", retryAt, "retry"), wake !== undefined && dueText("wakes at", wake, "wake")),
      h("td", {}, timeText(step.start)),
      h("td", { class: "wide-only" }, step.end === undefined ? "" : timeText(step.end)),
      h("td", {}, duration((step.end ?? Date.now()) - step.start)),
      h("td", {}, step.restartable && h("button", { type: "button", class: "small restart-from", "data-key": step.key }, "Restart from step")),
    );
    return open ? [row, this.detail(step, id)] : [row];
  }

  private detail(step: HistoryStep, id: string): HTMLTableRowElement {
    const attempts = step.attempts.length
      ? h(
          "table",
          { class: "attempts" },
          h("thead", {}, h("tr", {}, h("th", {}, "attempt"), h("th", {}, "start"), h("th", {}, "end"), h("th", {}, "outcome"), h("th", {}, "error"))),
          h(
            "tbody",
            {},
            step.attempts.map((attempt) =>
              h(
                "tr",
                {},
                h("td", {}, attempt.attempt),
                h("td", {}, timeText(attempt.start)),
                h("td", {}, attempt.end === undefined ? "" : timeText(attempt.end)),
                h("td", {}, attempt.success === true ? "ok" : attempt.success === false ? "failed" : step.end === undefined ? "running" : "cut off"),
                h("td", { class: "error" }, attempt.error ? errorLine(attempt.error) : ""),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, "No attempts: not a step that runs code.");
    return h(
      "tr",
      { class: "step-detail", "data-key": id },
      h(
        "td",
        { colspan: 7 },
        h("h2", {}, "Attempts"),
        h("div", { class: "scroll-x" }, attempts),
        h("div", { class: "grid3" }, jsonBlock("Config", step.config, { class: "config" }), jsonBlock("Output", step.output, { class: "output" }), step.error && textBlock("Error", errorLine(step.error), { class: "error" })),
      ),
    );
  }
}
