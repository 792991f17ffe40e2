import type { LogRecord } from "../../core/records";
import { timeline, type Bar, type TimelineForm } from "../../core/timeline";
import { h } from "../dom";
import { duration, fullDate } from "../format";

/** Positions a bar along its track in percent, through the CSSOM (the CSP refuses style attributes). */
function span(element: HTMLElement, left: number, width: number): void {
  element.style.setProperty("left", `${left}%`);
  element.style.setProperty("width", `${width}%`);
}

/** What hovering a bar says: what it was, how it ended, how long, and the full dates. */
function hoverText(bar: Bar): string {
  const end = bar.open ? "still open" : fullDate(bar.end);
  return `${bar.label}: ${bar.outcome}, ${duration(bar.end - bar.start)}\n${fullDate(bar.start)} → ${end}`;
}

/**
 * The instance's time as bars (core/timeline.ts): a row per step attempt,
 * backoff, sleep, wait, rollback or pause, each placed along the span from
 * the first bar's start to the last one's end, with its label and duration
 * beside it and the full dates on hover.
 */
export function drawTimeline(records: readonly LogRecord[], form: TimelineForm, now: number | undefined): HTMLElement {
  const bars = timeline(records, form, now === undefined ? {} : { now });
  if (!bars.length) return h("p", { class: "muted" }, "No steps, waits or timers yet.");
  const from = Math.min(...bars.map((bar) => bar.start));
  const total = Math.max(1, Math.max(...bars.map((bar) => bar.end)) - from);
  return h(
    "ol",
    { class: "timeline" },
    bars.map((bar) => {
      const fill = h("span", { class: `bar ${bar.kind} ${bar.outcome}${bar.open ? " open" : ""}` });
      // A bar too short to see still gets a sliver.
      span(fill, ((bar.start - from) / total) * 100, Math.max(0.5, ((bar.end - bar.start) / total) * 100));
      return h(
        "li",
        { class: "timeline-row", "data-kind": bar.kind, "data-key": bar.key, "data-outcome": bar.outcome, title: hoverText(bar) },
        h("span", { class: "timeline-label" }, bar.label),
        h("span", { class: "timeline-track" }, fill),
        h("span", { class: "timeline-duration" }, duration(bar.end - bar.start)),
      );
    }),
  );
}
