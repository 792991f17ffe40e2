import { toJson } from "../json";
import type { StepPolicy } from "../retry";
import { invalid, WorkflowFatalError } from "./config";
import type { HandlerCall, StepCall } from "./session";

const BACKOFFS: readonly string[] = ["constant", "linear", "exponential"];

function isPolicy(policy: unknown): policy is StepPolicy {
  if (typeof policy !== "object" || policy === null) return false;
  const { limit, delayMs, backoff, timeoutMs } = policy as Record<string, unknown>;
  return (
    Number.isInteger(limit) &&
    (limit as number) >= 0 &&
    Number.isFinite(delayMs) &&
    (delayMs as number) >= 0 &&
    typeof backoff === "string" &&
    BACKOFFS.includes(backoff) &&
    Number.isFinite(timeoutMs) &&
    (timeoutMs as number) > 0
  );
}

/**
 * Checks what a client sends with a step call, as the kernel keeps it. The in-object client builds it with
 * resolveStepConfig; a client across a wire (Python) sends it as data, so the kernel checks it and refuses a bad one
 * with Cloudflare's message for an invalid config, before anything changes.
 */
export function assertStepCall(name: string, call: Omit<StepCall, "name" | "count"> | Omit<HandlerCall, "name" | "count">, isHandler = false): void {
  const { policy, delayFunction, logged, sensitive } = call as unknown as Record<string, unknown>;
  if (!isPolicy(policy) || typeof delayFunction !== "boolean" || (!isHandler && typeof sensitive !== "boolean")) throw invalid(name);
  if (typeof logged !== "object" || logged === null || Object.keys(logged).some((key) => key !== "config")) throw invalid(name);
  // Kept in the step's first record: bounded like any stored value.
  toJson((logged as { config?: unknown }).config, `the config of step "${name}"`);
}

/** A duration a call sends in milliseconds: a finite number, not negative. */
export function assertMilliseconds(name: string, ms: unknown, what: string): asserts ms is number {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) throw new WorkflowFatalError(`The ${what} of "${name}" must be a number of milliseconds, 0 or more.`);
}
