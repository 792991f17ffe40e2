/**
 * Paused time does not count, for every form: a deadline (a timer, an event
 * wait's timeout, a retry) moves by the length of the pause when the instance
 * resumes, and a retry scheduled during a pause starts its delay at the pause,
 * so that resuming moves it to resume + delay. Each fold moves its own
 * timers; the retries, which both forms keep alike, move here.
 */
/** A failed attempt's retry as the fold keeps it: `retryAt` from the record, less the time paused so far. */
export function backoff(retryAt: number, paused: { at: number } | null, recordAt: number): { phase: "backoff"; retryAt: number } {
  return { phase: "backoff", retryAt: retryAt - (paused ? recordAt - paused.at : 0) };
}

/** Moves every pending retry by `by` milliseconds (a resume, or a restart from a step that keeps the steps before it). */
export function shiftRetries(steps: Record<string, { retryAt?: number }>, by: number): void {
  for (const step of Object.values(steps)) if (step.retryAt !== undefined) step.retryAt += by;
}
