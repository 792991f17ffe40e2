import type { LogRecord } from "../../core/records";
import { copyButton } from "../components/copy-button";
import { byId, fill, h } from "../dom";
import { clockTime, duration, fullDate, oneLine } from "../format";
import { indexAt, READ_RECORDS, type LogRecords } from "../log-records";

/** Records the log panel shows at first, the newest; "Older records" shows as many again. */
const LOG_PAGE = 200;
/** Records shown before a linked one, so it is seen in its context. */
const CONTEXT = 5;
/** How far before the records held a linked record may be for the log to read back to it; one further back is read and shown alone. */
const REACH = READ_RECORDS;

/** A record in words, and whether it went well or badly. */
export function describe(record: LogRecord): { kind: "" | "ok" | "failed"; text: string } {
  const said = (text: string, kind: "" | "ok" | "failed" = "") => ({ kind, text });
  switch (record.type) {
    case "step.started":
      return said(`step ${record.data.key} attempt ${record.data.attempt} started`);
    case "step.attempt_failed": {
      const { key, attempt, error, retryAt } = record.data;
      return said(`step ${key} attempt ${attempt} failed: ${error.name}: ${error.message}${retryAt === undefined ? "" : ` (retry at ${fullDate(retryAt)})`}`, "failed");
    }
    case "step.succeeded":
      return said(`step ${record.data.key} succeeded${record.data.output === undefined ? "" : `: ${oneLine(record.data.output)}`}`, "ok");
    case "step.failed":
      return said(`step ${record.data.key} failed: ${record.data.error.name}: ${record.data.error.message}`, "failed");
    case "timer.started":
      return said(`timer ${record.data.id} set for ${fullDate(record.data.dueAt)}`);
    case "timer.fired":
      return said(`timer ${record.data.id} fired`);
    case "timer.cancelled":
      return said(`timer ${record.data.id} cancelled`);
    case "event.received":
      return said(`event ${record.data.type}${record.data.payload === undefined ? "" : ` ${oneLine(record.data.payload)}`}`);
    case "wait.started":
      return said(`waiting for event ${record.data.type} until ${fullDate(record.data.dueAt)}`);
    case "instance.errored":
      return said(`errored: ${record.data.error.name}: ${record.data.error.message}`, "failed");
    case "instance.created":
      return said(`created${record.data.params === undefined ? "" : ` with params ${oneLine(record.data.params)}`}`);
    case "instance.completed":
      return said("completed", "ok");
    default:
      return said(`${record.type.replace("instance.", "")}${Object.keys(record.data).length ? ` ${oneLine(record.data)}` : ""}`);
  }
}

/** How long each attempt that ended took, by the index of the record that ended it. */
function attemptDurations(records: readonly LogRecord[]): (number | undefined)[] {
  const started = new Map<string, number>();
  return records.map((record) => {
    if (record.type === "step.started") started.set(`${record.data.key}#${record.data.attempt}`, record.at);
    if (record.type !== "step.succeeded" && record.type !== "step.failed" && record.type !== "step.attempt_failed") return undefined;
    const begun = started.get(`${record.data.key}#${record.data.attempt}`);
    return begun === undefined ? undefined : record.at - begun;
  });
}

/**
 * The log panel: the newest records of the log the page holds, older ones
 * on request, each with its own URL (its seq is a link) and a button that
 * copies it. A linked record is marked and scrolled to; one older than
 * those held is read back to, or, far back, read and shown alone. Rows are
 * added and removed at the ends, never all drawn again, so a long log
 * stays cheap as records arrive.
 */
export class InstanceLog {
  /** The oldest seq the panel shows. */
  private from: number | undefined;
  private drawn: { first: number; last: number } | undefined;
  private marked: number | undefined;
  /** The record marked when the rows were last brought up to date. */
  private drawnMark: number | undefined;
  private scrollToMark = false;
  private olderAdded = false;

  constructor(
    private readonly log: LogRecords,
    /** A record's URL (dashboard/router.ts). */
    private readonly linkOf: (seq: number) => string,
  ) {}

  /** Shows LOG_PAGE more records, read from the API when the page does not hold them. */
  async showOlder(): Promise<void> {
    const target = Math.max(1, (this.from ?? 1) - LOG_PAGE);
    if (target < (this.log.first ?? 1)) await this.log.readBackTo(target);
    this.from = Math.max(target, this.log.first ?? target);
    this.olderAdded = true;
    this.draw();
  }

  /** Marks a record (a record's URL) and scrolls to it, reading it first when the page does not hold it; undefined unmarks. */
  async mark(seq: number | undefined): Promise<void> {
    this.marked = seq;
    this.scrollToMark = seq !== undefined;
    let alone: LogRecord | undefined;
    const first = this.log.first;
    if (seq !== undefined && first !== undefined && seq < first) {
      if (first - seq <= REACH) await this.log.readBackTo(Math.max(1, seq - CONTEXT));
      else alone = await this.log.one(seq);
    }
    if (seq !== undefined && seq > (this.log.last ?? Infinity)) await this.log.loadNewer();
    if (seq !== this.marked) return;
    this.drawAlone(seq, alone);
    this.draw();
  }

  /** A linked record far older than those held, shown by itself above the list; or the word that the log has no such record. */
  private drawAlone(seq: number | undefined, alone: LogRecord | undefined): void {
    const box = byId("log-alone", HTMLElement);
    const last = this.log.last;
    if (seq === undefined || (!alone && (last === undefined || seq <= last))) return fill(box);
    if (!alone) return fill(box, h("p", { class: "error" }, `This log has no record ${seq}: its last is record ${last}.`));
    fill(
      box,
      h("p", { class: "muted" }, `Record ${seq} is ${(this.log.first ?? seq) - seq} records before the oldest read here, so it is shown alone; "Older records" reads back toward it.`),
      h("div", { class: "log" }, this.row(alone, undefined, true)),
    );
  }

  private row(record: LogRecord, took: number | undefined, marked: boolean): HTMLElement {
    const { kind, text } = describe(record);
    const link = this.linkOf(record.seq);
    return h(
      "div",
      { class: [kind, marked ? "marked" : ""].filter(Boolean).join(" ") || undefined, "data-seq": record.seq, "aria-current": marked ? "true" : undefined },
      h("a", { class: "seq", href: link, "data-link": true, title: `Record ${record.seq}: open its URL` }, `#${record.seq}`),
      " ",
      h("time", { title: fullDate(record.at) }, clockTime(record.at)),
      ` · ${text}`,
      took === undefined ? "" : ` (${duration(took)})`,
      copyButton(`a link to record ${record.seq}`, () => new URL(link, location.href).href, true),
    );
  }

  /** Brings the panel up to the records held: rows added or dropped at either end, the mark moved, the view kept where the reader had it. */
  draw(): void {
    const list = byId("log-records", HTMLElement);
    const { records } = this.log;
    const first = this.log.first;
    const last = this.log.last;
    if (first === undefined || last === undefined) return;
    let from = Math.max(first, this.from ?? last - LOG_PAGE + 1);
    if (this.marked !== undefined && this.marked >= first && this.marked <= last) from = Math.min(from, Math.max(first, this.marked - CONTEXT));
    this.from = from;
    const shown = last - from + 1;
    const all = this.log.complete && from === first;
    byId("log-note", HTMLElement).textContent = all ? `all ${shown} records` : `showing the newest ${shown} of ${last} records`;
    byId("log-older", HTMLButtonElement).hidden = all;
    const drawn = this.drawn;
    // Older pages read in the background change nothing here: reading the list's scroll would make the browser lay out the whole page for nothing.
    if (drawn?.first === from && drawn.last === last && this.drawnMark === this.marked && !this.scrollToMark) return;
    this.drawnMark = this.marked;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 4;
    const fromBottom = list.scrollHeight - list.scrollTop;
    let spans: (number | undefined)[] | undefined;
    const rows = (low: number, high: number) => {
      spans ??= attemptDurations(records);
      const out: HTMLElement[] = [];
      for (let i = indexAt(records, low); i < records.length && records[i]!.seq <= high; i++) out.push(this.row(records[i]!, spans[i], records[i]!.seq === this.marked));
      return out;
    };
    if (!drawn || from > drawn.last || last < drawn.first) {
      fill(list, rows(from, last));
    } else {
      for (let row = list.firstElementChild as HTMLElement | null; row && Number(row.dataset.seq) < from; row = list.firstElementChild as HTMLElement | null) row.remove();
      if (from < drawn.first) list.prepend(...rows(from, drawn.first - 1));
      if (last > drawn.last) list.append(...rows(drawn.last + 1, last));
    }
    const grew = !drawn || drawn.first !== from || drawn.last !== last;
    this.drawn = { first: from, last };
    for (const row of list.querySelectorAll<HTMLElement>(".marked")) {
      if (Number(row.dataset.seq) === this.marked) continue;
      row.classList.remove("marked");
      row.removeAttribute("aria-current");
    }
    const markedRow = this.marked === undefined ? null : list.querySelector<HTMLElement>(`[data-seq="${this.marked}"]`);
    markedRow?.classList.add("marked");
    markedRow?.setAttribute("aria-current", "true");
    if (markedRow && this.scrollToMark) {
      this.scrollToMark = false;
      list.scrollTop = markedRow.offsetTop - (list.clientHeight - markedRow.offsetHeight) / 2;
      list.scrollIntoView({ block: "nearest" });
    } else if (grew && this.olderAdded) {
      list.scrollTop = list.scrollHeight - fromBottom;
    } else if (grew && (!drawn || atBottom) && this.marked === undefined) {
      list.scrollTop = list.scrollHeight;
    }
    this.olderAdded = false;
  }

  /** When each step waiting for its retry will try again: its newest failed attempt's retryAt, unless an attempt started since. */
  retries(): Map<string, number> {
    const at = new Map<string, number>();
    for (const record of this.log.records) {
      if (record.type === "step.attempt_failed" && record.data.retryAt !== undefined) at.set(record.data.key, record.data.retryAt);
      if (record.type === "step.started" || record.type === "step.succeeded" || record.type === "step.failed") at.delete(record.data.key);
    }
    return at;
  }
}
