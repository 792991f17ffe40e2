import type { StepBody } from "../core/definition";
import type { StepOutcome } from "../core/decide";
import { errorInfo } from "../core/planner";
import type { Clock } from "./clock";

export class WorkflowTimeoutError extends Error {
  constructor(ms: number) {
    super(`Execution timed out after ${ms}ms`);
    this.name = "WorkflowTimeoutError";
  }
}

export interface Attempt {
  key: string;
  attempt: number;
  input: unknown;
  timeoutMs: number;
  controller: AbortController;
  env: unknown;
}

/**
 * Runs one attempt of a step body. It settles when the body does, when the
 * attempt times out, or when the host aborts it; an abort by the host
 * (the step's state was left) settles as a failure the host then ignores.
 */
export async function runAttempt(body: StepBody, attempt: Attempt, clock: Clock): Promise<StepOutcome> {
  const { controller } = attempt;
  const cancelTimeout = clock.setTimer(clock.now() + attempt.timeoutMs, () => controller.abort(new WorkflowTimeoutError(attempt.timeoutMs)));
  const aborted = new Promise<never>((_, reject) => {
    if (controller.signal.aborted) reject(controller.signal.reason);
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
  });
  aborted.catch(() => undefined);
  try {
    const output = await Promise.race([
      Promise.resolve().then(() => body({ input: attempt.input, stepId: attempt.key, attempt: attempt.attempt, signal: controller.signal, env: attempt.env })),
      aborted,
    ]);
    return { ok: true, output };
  } catch (error) {
    return { ok: false, error: errorInfo(error) };
  } finally {
    cancelTimeout();
  }
}
