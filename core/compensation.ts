import type { WorkflowDefinition } from "./definition";
import type { Json } from "./json";
import type { ErrorInfo } from "./records";
import type { Book } from "./state";
import { undoOrder } from "./saga";
import { get, put } from "./table";

/**
 * The saga of a machine workflow. A step whose config names a `compensate`
 * actor is remembered once it starts; when the machine ends in error (or a
 * terminate asks for it), those steps are undone newest first, each
 * compensation a step of its own (retried, timed out and recovered like any),
 * and a compensation that fails for good stops the chain. The instance keeps
 * its original ending. All of it is folded from the log, like the rest.
 */

export function rememberStart(def: WorkflowDefinition, book: Book, key: string): void {
  const entry = get(book.steps, key);
  if (!entry || entry.compensates || !def.compensator(entry.src) || book.compensable.some((c) => c.key === key)) return;
  book.compensable.push({ key, src: entry.src, ...(entry.input === undefined ? {} : { input: entry.input }) });
}

export function rememberOutput(book: Book, key: string, output: Json | undefined): void {
  const done = book.compensable.find((c) => c.key === key);
  if (done && output !== undefined) done.output = output;
}

/** Ends the run with `error`, or starts undoing what it did first. */
export function fail(def: WorkflowDefinition, book: Book, error: ErrorInfo, trigger: "error" | "terminate"): void {
  if (book.rollback || book.ended) return;
  book.steps = {};
  book.timers = {};
  book.inbox = [];
  book.paused = null;
  if (!book.compensable.length) {
    book.ended = trigger === "error" ? { status: "errored", error } : { status: "terminated" };
    return;
  }
  const started = new Map(book.compensable.map((c, order) => [c.key, order]));
  book.rollback = { trigger, error, queue: undoOrder(started.keys(), (key) => started.get(key)) };
  nextCompensation(def, book);
}

function nextCompensation(def: WorkflowDefinition, book: Book): void {
  const saga = book.rollback!;
  const key = saga.queue[0];
  if (key === undefined) {
    book.ended = saga.trigger === "error" ? { status: "errored", error: saga.error } : { status: "terminated" };
    return;
  }
  const done = book.compensable.find((c) => c.key === key)!;
  const undoKey = `${key}~undo`;
  put(book.steps, undoKey, {
    key: undoKey,
    invokeId: undoKey,
    src: def.compensator(done.src)!,
    input: { input: done.input ?? null, output: done.output ?? null, error: { name: saga.error.name, message: saga.error.message } },
    attempt: 0,
    failures: 0,
    phase: "ready",
    compensates: key,
  });
}

/** A compensation settled: on to the next, or, if it failed for good, the chain stops with the run's own ending. */
export function compensationSettled(def: WorkflowDefinition, book: Book, undoKey: string, failure: ErrorInfo | undefined): void {
  const saga = book.rollback!;
  delete book.steps[undoKey];
  if (failure) {
    saga.failed = failure;
    book.ended = saga.trigger === "error" ? { status: "errored", error: saga.error } : { status: "terminated" };
    return;
  }
  saga.queue.shift();
  nextCompensation(def, book);
}
