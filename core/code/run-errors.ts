import { NonRetryableError } from "../errors";
import { errorInfo } from "../planner";
import type { ErrorInfo } from "../records";

/** Errors that keep their name when Cloudflare's engine hands them across RPC; every other name is folded into the message. */
const BUILT_IN = new Set(["Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError", "AggregateError"]);

/** A failed step as run() receives it, still knowing what it was. */
export class StepFailure extends Error {
  constructor(readonly original: ErrorInfo) {
    super(BUILT_IN.has(original.name) ? original.message : `${original.name}: ${original.message}`);
    this.name = BUILT_IN.has(original.name) ? original.name : "Error";
  }
}

/** The error `run()` sees for a step's final failure: as Cloudflare delivers it, a custom name folded into the message. */
export function toRunError(error: ErrorInfo): Error {
  return new StepFailure(error);
}

/**
 * The error status() reports for what escaped run(): built-in names kept, a
 * NonRetryableError kept (Cloudflare's engine in workerd does so from
 * compatibility date 2026-05-14), any other name folded into the message.
 */
export function publicError(error: unknown): ErrorInfo {
  if (error instanceof StepFailure) return error.original.name === "NonRetryableError" ? { name: "NonRetryableError", message: error.original.message } : { name: error.name, message: error.message };
  if (error instanceof NonRetryableError && error.name === "NonRetryableError") return { name: "NonRetryableError", message: error.message };
  const info = errorInfo(error);
  return BUILT_IN.has(info.name) ? info : { name: "Error", message: `${info.name}: ${info.message}` };
}
