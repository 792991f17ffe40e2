import type { LogRecord } from "../core/records";
import type { Api } from "./api";

/**
 * How many of a log's newest records the page reads by itself, for the
 * timeline and the log: 10,000 records are a few megabytes of JSON and fold
 * in tens of milliseconds. A longer log's timeline starts later and says so;
 * the slider still spans every record (the server folds those), and the log
 * reads further back when asked.
 */
export const READ_RECORDS = 10_000;

/** Records one read asks for: the API's largest page. */
const PAGE = 1000;

/** The index of the first record at or after `seq` in a list ordered by seq. */
export function indexAt(records: readonly LogRecord[], seq: number): number {
  let low = 0;
  let high = records.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (records[middle]!.seq < seq) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * An instance's log as the page holds it: an unbroken run of its newest
 * records, read through the API a page at a time. The newest page comes
 * first (the log shows at once), then older pages one by one, each its own
 * turn in the queue so live records are not held behind them, up to
 * READ_RECORDS; older ones only when asked. Reads run one after another, so
 * two never add the same records.
 */
export class LogRecords {
  records: LogRecord[] = [];
  /** The first record: the params and the start. */
  created: LogRecord<"instance.created"> | undefined;
  /** Whether the records reach back to the log's first. */
  complete = false;
  /** Whether older pages are still being read on the page's own account. */
  reading = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** The oldest seq the reader asked for ("Older records", a record's URL): kept however many records follow it. */
  private keepFrom: number | undefined;
  private started = false;

  constructor(
    private readonly api: Api,
    private readonly workflow: string,
    private readonly id: string,
    /** Called after each read that added records. */
    private readonly changed: () => void,
    private readonly failed: (error: unknown) => void,
  ) {}

  get first(): number | undefined {
    return this.records[0]?.seq;
  }

  get last(): number | undefined {
    return this.records[this.records.length - 1]?.seq;
  }

  /** The record with this seq, when it is held. */
  at(seq: number): LogRecord | undefined {
    const record = this.records[indexAt(this.records, seq)];
    return record?.seq === seq ? record : undefined;
  }

  private task(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Starts once the inspection socket says how far the log goes: the newest page, then older pages in the background. */
  start(tail: number): Promise<void> {
    if (this.started) return this.queue.then(() => undefined);
    this.started = true;
    const read = this.task(async () => {
      const after = Math.max(0, tail - PAGE);
      this.records = await this.api.records(this.workflow, this.id, after);
      this.complete = after === 0;
      this.created = (this.complete ? this.records[0] : (await this.api.records(this.workflow, this.id, 0, 1))[0]) as LogRecord<"instance.created"> | undefined;
    });
    void read.then(() => this.readBack(), () => undefined);
    return read;
  }

  /** Older pages, one turn each, until READ_RECORDS are held or the log's start is reached. */
  private async readBack(): Promise<void> {
    this.reading = true;
    this.changed();
    try {
      while (!this.complete && this.records.length < READ_RECORDS) await this.task(() => this.readOlder(Math.min(PAGE, READ_RECORDS - this.records.length)));
    } catch (error) {
      this.failed(error);
    } finally {
      this.reading = false;
      this.changed();
    }
  }

  private async readOlder(count: number): Promise<void> {
    const first = this.first ?? 1;
    const after = Math.max(0, first - 1 - count);
    const older = first > 1 ? await this.api.records(this.workflow, this.id, after, first - 1 - after) : [];
    this.records.unshift(...older);
    this.complete = after === 0;
    this.changed();
  }

  /** The records written since the last one held; the oldest are let go past READ_RECORDS, unless the reader asked for them. */
  loadNewer = () =>
    this.task(async () => {
      const last = this.last;
      if (last === undefined) return;
      const newer = await this.api.records(this.workflow, this.id, last);
      if (!newer.length) return;
      this.records.push(...newer);
      const oldest = Math.min(this.keepFrom ?? Infinity, newer[newer.length - 1]!.seq - READ_RECORDS + 1);
      const drop = indexAt(this.records, oldest);
      if (drop > 0) {
        this.records.splice(0, drop);
        this.complete = false;
      }
    });

  /** Reads back until the record with seq `from` is held (or the log's start): the reader asked for it, so it is kept. */
  readBackTo = (from: number) => {
    this.keepFrom = Math.min(this.keepFrom ?? from, from);
    return this.task(async () => {
      while (!this.complete && (this.first ?? 1) > from) await this.readOlder(Math.min(PAGE, (this.first ?? 1) - Math.max(1, from)));
    });
  };

  /** One record by its seq, read by itself (a record far older than those held); undefined when the log has none. */
  one = async (seq: number): Promise<LogRecord | undefined> => {
    const [record] = await this.api.records(this.workflow, this.id, seq - 1, 1);
    return record?.seq === seq ? record : undefined;
  };
}
