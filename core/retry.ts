import { toMilliseconds, type Duration } from "./durations";
import { DurableMachinesError, text } from "./errors";
import type { ErrorInfo } from "./records";

export type Backoff = "constant" | "linear" | "exponential";

export interface RetryConfig {
  /** Retries after the first attempt: `limit: 3` allows 4 attempts. */
  limit: number;
  delay: Duration;
  backoff?: Backoff;
}

export interface StepConfig {
  retries?: RetryConfig;
  timeout?: Duration;
  /** A promise actor in setup({ actors }) that undoes this step if the run fails after it started (a saga). */
  compensate?: string;
}

export interface StepPolicy {
  limit: number;
  delayMs: number;
  backoff: Backoff;
  timeoutMs: number;
}

/** Cloudflare Workflows' defaults, as its engine in workerd applies them. */
export const DEFAULT_POLICY: StepPolicy = {
  limit: 5,
  delayMs: 10_000,
  backoff: "exponential",
  timeoutMs: 10 * 60_000,
};

export class InvalidStepConfigError extends DurableMachinesError {
  constructor(step: string, problem: string) {
    super("step.invalid_config", `Step config for "${step}" is invalid: ${problem}`);
  }
}

export function toPolicy(step: string, config: StepConfig = {}): StepPolicy {
  const policy = { ...DEFAULT_POLICY };
  if (config.retries) {
    const { limit, delay, backoff } = config.retries;
    if (!Number.isInteger(limit) || limit < 0) throw new InvalidStepConfigError(step, `retries.limit must be an integer >= 0, got ${text(limit)}.`);
    if (backoff !== undefined && !["constant", "linear", "exponential"].includes(backoff)) {
      throw new InvalidStepConfigError(step, `retries.backoff must be "constant", "linear" or "exponential", got ${JSON.stringify(backoff)}.`);
    }
    policy.limit = limit;
    policy.delayMs = toMilliseconds(delay);
    // Cloudflare treats an explicit `backoff: undefined` as constant.
    policy.backoff = "backoff" in config.retries ? (backoff ?? "constant") : DEFAULT_POLICY.backoff;
  }
  if (config.timeout !== undefined) {
    policy.timeoutMs = toMilliseconds(config.timeout);
    if (policy.timeoutMs === 0) throw new InvalidStepConfigError(step, "timeout must be more than 0.");
  }
  return policy;
}

/** Delay before the retry that follows failed attempt number `failures` (1-based). */
export function retryDelay(policy: StepPolicy, failures: number): number {
  switch (policy.backoff) {
    case "constant":
      return policy.delayMs;
    case "linear":
      return policy.delayMs * failures;
    case "exponential":
      return policy.delayMs * 2 ** (failures - 1);
  }
}

/** Cloudflare recognises a NonRetryableError by its name or by a message that starts with it; the engine marks its own with `nonRetryable`. */
export function isNonRetryable(error: ErrorInfo): boolean {
  return error.name === "NonRetryableError" || error.message.startsWith("NonRetryableError") || error.nonRetryable === true;
}

/** When to try again after a failure, or `undefined` when the step has failed for good. */
export function nextRetryAt(policy: StepPolicy, failures: number, error: ErrorInfo, now: number): number | undefined {
  if (isNonRetryable(error) || failures > policy.limit) return undefined;
  return now + retryDelay(policy, failures);
}
