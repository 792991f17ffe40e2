import type { ErrorInfo } from "../records";

/**
 * A failed step as run() receives it: the thrown name and message, kept.
 * Cloudflare's engine folds a custom name into the message because the error
 * crosses RPC; no RPC boundary sits between our steps and run(), so the
 * error arrives as it was thrown (docs/cloudflare-compat.md).
 */
export class StepFailure extends Error {
  constructor(error: ErrorInfo) {
    super(error.message);
    this.name = error.name;
  }
}

/** The error `run()` sees for a step's final failure. */
export function toRunError(error: ErrorInfo): Error {
  return new StepFailure(error);
}

