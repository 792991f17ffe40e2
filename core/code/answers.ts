import type { ErrorInfo } from "../records";
import { get } from "../table";
import type { CodeBook, ReceivedEvent, StepResult } from "./fold";

/** What an event wait that timed out records and answers: Cloudflare's name and message. */
export function waitTimedOut(timeoutMs: number): ErrorInfo {
  return { name: "WorkflowTimeoutError", message: `Execution timed out after ${timeoutMs}ms` };
}

/** The log's answer to a call of run(), for every client: a step's stored result, a sleep over, an event, or an error. */
export type LogAnswer =
  | { ok: true; result: Extract<StepResult, { ok: true }> }
  | { ok: true; slept: true }
  | { ok: true; event: ReceivedEvent }
  | { ok: false; error: ErrorInfo };

/** The answer the log has for a call's key, if it has one yet. */
export function logAnswer(book: CodeBook, key: string): LogAnswer | undefined {
  const result = get(book.results, key);
  if (result) return result.ok ? { ok: true, result } : { ok: false, error: result.error };
  if (get(book.sleeps, key)?.done) return { ok: true, slept: true };
  const wait = get(book.waits, key);
  const outcome = wait?.outcome;
  if (outcome && "event" in outcome) return { ok: true, event: outcome.event };
  if (outcome) return { ok: false, error: waitTimedOut(wait!.timeoutMs) };
  return undefined;
}
