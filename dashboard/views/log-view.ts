import type { LogRecord } from "../../core/records";
import type { Api } from "../api";
import { byId, fill, h } from "../dom";
import { duration, fullDate, oneLine } from "../format";

/** Records the log view starts with, the newest; "Older records" adds as many again. */
const LOG_PAGE = 200;

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
 * An instance's log, newest records first read, older ones on request: the
 * reads run one after another, so two never add the same records.
 */
export class InstanceLog {
  records: LogRecord[] = [];
  /** The first record: the params and the start. */
  created: LogRecord<"instance.created"> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private olderAdded = false;

  constructor(
    private readonly api: Api,
    private readonly workflow: string,
    private readonly id: string,
  ) {}

  private task(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The newest records, once the inspection socket has said how far the log goes. */
  loadNewest = (seq: number) =>
    this.task(async () => {
      if (this.records.length) return;
      const after = Math.max(0, seq - LOG_PAGE);
      this.records = await this.api.records(this.workflow, this.id, after);
      this.created = (after === 0 ? this.records[0] : (await this.api.records(this.workflow, this.id, 0, 1))[0]) as LogRecord<"instance.created"> | undefined;
    });

  loadNewer = () =>
    this.task(async () => {
      const last = this.records[this.records.length - 1];
      if (last) this.records.push(...(await this.api.records(this.workflow, this.id, last.seq)));
    });

  loadOlder = () =>
    this.task(async () => {
      const first = this.records[0]?.seq ?? 1;
      const after = Math.max(0, first - 1 - LOG_PAGE);
      if (first > 1) this.records.unshift(...(await this.api.records(this.workflow, this.id, after, first - 1 - after)));
      this.olderAdded = true;
    });

  /** Draws the records into the log panel; new ones keep the view at the bottom, older ones added above keep the records in view where they were. */
  draw(): void {
    const list = byId("log-records", HTMLElement);
    const { records } = this;
    const last = records[records.length - 1];
    if (!last) return;
    const spans = attemptDurations(records);
    const grew = list.childElementCount !== records.length;
    const fromBottom = list.scrollHeight - list.scrollTop;
    fill(
      list,
      records.map((record, i) => {
        const { kind, text } = describe(record);
        const took = spans[i];
        return h("div", { class: kind, "data-seq": record.seq }, h("time", { title: fullDate(record.at) }, new Date(record.at).toLocaleTimeString()), ` · ${text}`, took === undefined ? "" : ` (${duration(took)})`);
      }),
    );
    if (grew) list.scrollTop = this.olderAdded ? list.scrollHeight - fromBottom : list.scrollHeight;
    this.olderAdded = false;
    const first = records[0]!;
    byId("log-note", HTMLElement).textContent = first.seq === 1 ? `all ${last.seq} records` : `showing the newest ${records.length} of ${last.seq} records`;
    byId("log-older", HTMLButtonElement).hidden = first.seq === 1;
  }

  /** When each step waiting for its retry will try again: its newest failed attempt's retryAt, unless an attempt started since. */
  retries(): Map<string, number> {
    const at = new Map<string, number>();
    for (const record of this.records) {
      if (record.type === "step.attempt_failed" && record.data.retryAt !== undefined) at.set(record.data.key, record.data.retryAt);
      if (record.type === "step.started" || record.type === "step.succeeded" || record.type === "step.failed") at.delete(record.data.key);
    }
    return at;
  }
}
