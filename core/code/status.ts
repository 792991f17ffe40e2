import type { LogRecord } from "../records";
import type { InstanceStatusName } from "../status";
import { applyCodeRecord, foldCode, type CodeBook, type CodeFoldContext, type CodeState } from "./fold";

/** `waiting` only while nothing runs and the run waits on time or an event: between two steps, run() itself is running. */
export function codeStatusName(book: CodeBook): InstanceStatusName {
  const { ended, paused, steps, openSleeps, openWaits, rollback } = book;
  if (ended) return ended.status;
  if (rollback && !rollback.finished) return "rollingBack";
  const running = Object.values(steps).some((step) => step.phase === "running");
  if (paused) return running ? "waitingForPause" : "paused";
  if (running) return "running";
  const retrying = Object.values(steps).some((step) => step.phase === "backoff");
  return retrying || openSleeps > 0 || openWaits.length > 0 ? "waiting" : "running";
}

/** What a run waits on, as status() shows it: the open step, sleep and event-wait keys. */
export function codeWaitingOn(book: CodeBook): string[] {
  return [
    ...Object.keys(book.steps),
    ...Object.entries(book.sleeps).flatMap(([key, s]) => (s.done ? [] : [key])),
    ...Object.entries(book.waits).flatMap(([key, w]) => (w.outcome ? [] : [key])),
  ];
}

/**
 * The status of a code-first instance after each record of its log, for a
 * reader that has the log and no driver (subscribe()): the same fold and
 * rules as the driver's status(). The records are kept for a restart from a
 * step, which folds the log before its cut again.
 */
export class CodeStatusReader {
  private state: CodeState | undefined;
  private readonly records: LogRecord[] = [];
  private readonly context: CodeFoldContext = { stateBefore: (seq) => foldCode(this.records.filter((record) => record.seq < seq)) };

  after(record: LogRecord): InstanceStatusName {
    this.records.push(record);
    this.state = applyCodeRecord(this.state, record, this.context);
    return codeStatusName(this.state.book);
  }
}
