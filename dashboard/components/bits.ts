import type { InstanceStatusName } from "../../core/status";
import { h } from "../dom";
import { fullDate, pretty, relativeTime, shortId } from "../format";
import { copyButton } from "./copy-button";

const STATUS_LABELS: Partial<Record<InstanceStatusName, string>> = { waitingForPause: "pausing", rollingBack: "rolling back" };
export const statusLabel = (status: InstanceStatusName) => STATUS_LABELS[status] ?? status;

/** A status as a coloured badge; `kind` picks the colour when it differs from the text. */
export const badge = (text: string, kind = text) => h("span", { class: `status ${kind}` }, text);

/** An id, cut when long, the whole id on hover, with a copy button. */
export const idText = (id: string, copyable = true) =>
  h("span", { class: "id" }, h("span", { class: "id-text", title: id }, shortId(id)), copyable && copyButton("id", () => id));

/** A moment as "5 minutes ago", the full date on hover; the clock tick in main.ts keeps the words current. */
export const timeText = (at: number) => h("time", { class: "relative", datetime: new Date(at).toISOString(), "data-at": at, title: fullDate(at) }, relativeTime(at, Date.now()));

/**
 * A moment to come, said whole because it is what one waits for: "wakes at
 * Dec 10, 2026, 3:54:02 AM", "in 2 days" on hover (kept current as the others).
 */
export const dueText = (words: string, at: number, kind: string) =>
  h("div", { class: `due ${kind} muted` }, `${words} `, h("time", { class: "absolute", datetime: new Date(at).toISOString(), "data-at": at, title: relativeTime(at, Date.now()) }, fullDate(at)));

/** Brings every relative time on the page up to now: the words of a past moment, the hover text of one to come. */
export function refreshTimes(root: ParentNode = document): void {
  const now = Date.now();
  for (const element of root.querySelectorAll<HTMLElement>("time.relative[data-at]")) element.textContent = relativeTime(Number(element.dataset.at), now);
  for (const element of root.querySelectorAll<HTMLElement>("time.absolute[data-at]")) element.title = relativeTime(Number(element.dataset.at), now);
}

/** A titled block of text with a copy button, or "none" (and nothing to copy); `id` and `class` name the pre for tests and styles. */
export function textBlock(title: string, text: string | undefined, attributes: { id?: string; class?: string } = {}): HTMLElement {
  return h(
    "div",
    { class: "block" },
    h("div", { class: "block-head" }, h("h2", {}, title), text !== undefined && copyButton(title.toLowerCase(), () => text)),
    h("pre", attributes, text ?? "none"),
  );
}

/** A titled block of JSON with a copy button. */
export const jsonBlock = (title: string, value: unknown, attributes: { id?: string; class?: string } = {}) => textBlock(title, value === undefined ? undefined : pretty(value), attributes);

/** An error as one line, "Name: message". */
export const errorLine = (error: { name: string; message: string }) => `${error.name}: ${error.message}`;
