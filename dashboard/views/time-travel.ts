import type { Instant } from "../../core/time-travel";
import type { Api } from "../api";
import { jsonBlock, statusLabel } from "../components/bits";
import { fill, h } from "../dom";
import { fullDate } from "../format";

/** How long the slider rests before its seq is asked for: dragging across a long log sends one request, not hundreds. */
const DEBOUNCE_MS = 150;

export interface TimeTravelHost {
  api: Api;
  fail(error: unknown): void;
  /** An earlier instant to show (the diagram lit as it was), or undefined: back to now. */
  show(instant: Instant | undefined): void;
}

/**
 * A slider over the log's seqs: moving it asks GET …/state?after=<seq>
 * (debounced, the older answers dropped) and shows the instance as it stood
 * then, its state, context or step results; "Now" returns to the live view.
 */
export class TimeTravel {
  readonly element: HTMLElement;
  private readonly slider = h("input", { type: "range", id: "travel-seq", min: 1, max: 1, value: 1, step: 1, disabled: true, "aria-label": "Show the instance after this record of its log" });
  private readonly now = h("button", { type: "button", id: "travel-now", class: "small", disabled: true }, "Now");
  private readonly note = h("span", { id: "travel-note", class: "muted" }, "now");
  private readonly shown = h("div", { id: "travel-state" });
  private wait: ReturnType<typeof setTimeout> | undefined;
  private asking: AbortController | undefined;
  private atNow = true;
  private times = new Map<number, number>();

  constructor(
    private readonly host: TimeTravelHost,
    private readonly workflow: string,
    private readonly id: string,
  ) {
    this.element = h("div", { class: "time-travel" }, h("div", { class: "tools" }, this.slider, this.now, this.note), this.shown);
    this.slider.addEventListener("input", () => this.moved());
    this.now.addEventListener("click", () => this.backToNow());
  }

  /** The log's seqs the slider spans; at "now" it follows the newest. */
  update(seqs: readonly { seq: number; at: number }[]): void {
    if (!seqs.length) return;
    this.times = new Map(seqs.map((record) => [record.seq, record.at]));
    this.slider.min = String(seqs[0]!.seq);
    this.slider.max = String(seqs[seqs.length - 1]!.seq);
    this.slider.disabled = seqs.length < 2;
    if (this.atNow) this.slider.value = this.slider.max;
  }

  close(): void {
    clearTimeout(this.wait);
    this.asking?.abort();
  }

  private moved(): void {
    clearTimeout(this.wait);
    const seq = Number(this.slider.value);
    if (seq === Number(this.slider.max)) return this.backToNow();
    this.atNow = false;
    this.now.disabled = false;
    const at = this.times.get(seq);
    this.note.textContent = `after record ${seq}${at === undefined ? "" : ` · ${fullDate(at)}`} · reading…`;
    this.wait = setTimeout(() => void this.ask(seq), DEBOUNCE_MS);
  }

  private async ask(seq: number): Promise<void> {
    this.asking?.abort();
    const asking = (this.asking = new AbortController());
    try {
      const instant = await this.host.api.stateAfter(this.workflow, this.id, seq, asking.signal);
      if (asking.signal.aborted || this.atNow) return;
      this.note.textContent = `after record ${instant.seq} · ${fullDate(instant.at)}`;
      fill(
        this.shown,
        h("p", {}, "Status then: ", h("span", { class: `status ${instant.status}`, id: "travel-status" }, statusLabel(instant.status))),
        instant.kind === "machine"
          ? [jsonBlock("State", instant.value, { id: "travel-value" }), jsonBlock("Context", instant.contextOmitted ? "(too large to show here: read the log)" : instant.context, { id: "travel-context" })]
          : [jsonBlock("Step results", instant.results, { id: "travel-results" }), jsonBlock("Waiting on", instant.waitingOn, { id: "travel-waiting" })],
      );
      this.host.show(instant);
    } catch (error) {
      if (!asking.signal.aborted) this.host.fail(error);
    }
  }

  private backToNow(): void {
    clearTimeout(this.wait);
    this.asking?.abort();
    this.atNow = true;
    this.slider.value = this.slider.max;
    this.now.disabled = true;
    this.note.textContent = "now";
    fill(this.shown);
    this.host.show(undefined);
  }
}
