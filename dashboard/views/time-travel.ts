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
 * A slider over every seq of the log, from its first record to its newest
 * (the server folds any of them, so the slider needs no record the page has
 * not read): moving it asks GET …/state?after=<seq> (debounced, the older
 * answers dropped) and shows the instance as it stood then, its state,
 * context or step results; "Now" returns to the live view. A record's URL
 * sets it (goTo).
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
  /** When a record the page holds was written, for the note while its state is read. */
  private timeOf: (seq: number) => number | undefined = () => undefined;
  /** A seq to go to once the slider reaches that far (a record's URL, opened before the log's length is known). */
  private pending: number | undefined;
  /** The log's newest seq, once update() has said it. */
  private last = 0;

  constructor(
    private readonly host: TimeTravelHost,
    private readonly workflow: string,
    private readonly id: string,
  ) {
    this.element = h("div", { class: "time-travel" }, h("div", { class: "tools" }, this.slider, this.now, this.note), this.shown);
    this.slider.addEventListener("input", () => this.moved());
    this.now.addEventListener("click", () => this.backToNow());
  }

  /** The log's seqs the slider spans, 1 to `last`; at "now" it follows the newest. */
  update(last: number, timeOf: (seq: number) => number | undefined): void {
    if (last < 1) return;
    this.timeOf = timeOf;
    this.last = last;
    this.slider.min = "1";
    this.slider.max = String(last);
    this.slider.disabled = last < 2;
    if (this.atNow) this.slider.value = this.slider.max;
    if (this.pending !== undefined && this.pending <= last) this.goTo(this.pending);
  }

  /** Shows the instance as it stood after record `seq` (after the newest, that is now); a seq past the newest waits for update(). */
  goTo(seq: number): void {
    if (seq > this.last) {
      this.pending = seq;
      return;
    }
    this.pending = undefined;
    this.slider.value = String(seq);
    this.moved();
  }

  /** Back to now, unless the slider was never moved. */
  reset(): void {
    this.pending = undefined;
    if (!this.atNow) this.backToNow();
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
    const at = this.timeOf(seq);
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
