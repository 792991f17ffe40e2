import { DELAY_FUNCTION_MS, delayFromFunction, NonRetryableDelayError } from "../core/code/config";
import type { RetryDelayAnswer } from "../core/code/decide";
import type { WorkflowDelayFunction, WorkflowStepContext } from "../core/code/types";
import { errorInfo } from "../core/planner";
import type { ErrorInfo } from "../core/records";
import type { Clock } from "./clock";

/**
 * What a step's delay function answers for a failure, within its time limit: milliseconds, or the error that
 * fails the step for good (Cloudflare's messages). It is user code, so it runs here, in the client, and the
 * kernel is told its answer with the failure.
 */
export async function retryDelayOf(delay: WorkflowDelayFunction, ctx: WorkflowStepContext, error: ErrorInfo, clock: Clock): Promise<RetryDelayAnswer> {
  const stepName = `${ctx.step.name}-${ctx.step.count}`;
  let cancel = () => undefined as void;
  const timedOut = new Promise<never>((_, reject) => {
    cancel = clock.setTimer(clock.now() + DELAY_FUNCTION_MS, () =>
      reject(new NonRetryableDelayError(`The delay function for step "${stepName}" did not return within ${DELAY_FUNCTION_MS / 1000} seconds`)),
    );
  });
  try {
    const thrown = Object.assign(new Error(error.message), { name: error.name });
    const result = await Promise.race([
      Promise.resolve()
        .then(() => delay({ ctx, error: thrown }))
        .catch((cause: unknown) => {
          throw new NonRetryableDelayError(`The delay function for step "${stepName}" threw an error: ${errorInfo(cause).message}`);
        }),
      timedOut,
    ]);
    return { ms: delayFromFunction(stepName, result) };
  } catch (delayError) {
    return { error: errorInfo(delayError) };
  } finally {
    cancel();
  }
}
