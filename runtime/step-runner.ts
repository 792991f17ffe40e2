import type { Clock } from "./clock";

export class WorkflowTimeoutError extends Error {
  constructor(ms: number) {
    super(`Execution timed out after ${ms}ms`);
    this.name = "WorkflowTimeoutError";
  }
}

/** What one attempt came to; `error` is what was thrown, as it was thrown. */
export type RawOutcome = { ok: true; output: unknown } | { ok: false; error: unknown };

export interface RunningAttempt {
  attempt: number;
  controller: AbortController;
  /** Settles once the attempt has settled and `settle` has returned. */
  done: Promise<void>;
}

/**
 * Runs one attempt of a step body, a code-first callback or a rollback
 * handler, for every form. `settle` is called once: with what `work` gave,
 * or, when the attempt is aborted (by its timeout or by the host), at once,
 * in the abort's own turn. The timeout acts when its timer fires, not once
 * promises have settled: a manual clock fires every timer of one advance
 * before any promise settles, so a timer due later in the same advance would
 * otherwise act first. A host's own aborts come after the attempt stopped
 * counting, so what they settle is ignored. Whatever `settle` throws goes to
 * `fault`.
 */
export function runAttempt(
  attempt: number,
  timeoutMs: number,
  clock: Clock,
  work: (signal: AbortSignal) => unknown,
  settle: (outcome: RawOutcome) => void | Promise<void>,
  fault: (error: unknown) => void,
): RunningAttempt {
  const controller = new AbortController();
  let settled = false;
  const finish = (outcome: RawOutcome): Promise<void> => {
    if (settled) return Promise.resolve();
    settled = true;
    cancelTimeout();
    return Promise.resolve()
      .then(() => settle(outcome))
      .catch(fault);
  };
  const cancelTimeout = clock.setTimer(clock.now() + timeoutMs, () => controller.abort(new WorkflowTimeoutError(timeoutMs)));
  let onAbort: Promise<void> | undefined;
  controller.signal.addEventListener(
    "abort",
    () => {
      if (settled) return;
      try {
        // Settled synchronously, in the abort's turn (see above).
        settled = true;
        cancelTimeout();
        const result = settle({ ok: false, error: controller.signal.reason });
        if (result instanceof Promise) onAbort = result.catch(fault);
      } catch (error) {
        fault(error);
      }
    },
    { once: true },
  );
  // An abort ends the attempt even when its work ignores the signal and never settles.
  const aborted = new Promise<void>((resolve) => controller.signal.addEventListener("abort", () => resolve(), { once: true })).then(() => onAbort);
  const finished = Promise.resolve()
    .then(() => work(controller.signal))
    .then(
      (output) => finish({ ok: true, output }),
      (error: unknown) => finish({ ok: false, error }),
    );
  const done = Promise.race([finished, aborted]);
  return { attempt, controller, done };
}
