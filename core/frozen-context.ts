import { freeze } from "immer";
import { ContextMutatedError } from "./errors";

/** Lets this file name Node's `process` under the Workers types too, where nothing declares it. */
declare const process: { env: Record<string, string | undefined> };

/**
 * Whether contexts are frozen when a workflow does not say: everywhere but
 * production, by the JavaScript convention of `process.env.NODE_ENV`.
 * Wrangler writes that expression into the bundle as "production" for
 * `wrangler deploy` and "development" for `wrangler dev` (unless NODE_ENV is
 * set), and vitest sets "test"; in a Worker no bundler touched, `process`
 * may not exist, which counts as development. Read once, at definition time:
 * a fold stays a function of its definition.
 */
export function freezesByDefault(): boolean {
  try {
    return process.env.NODE_ENV !== "production";
  } catch {
    return true;
  }
}

/**
 * Deep-freezes a machine's context, so that a change made in place (in a
 * plain action, a guard, an invoke's input) throws a TypeError on the line
 * that makes it, instead of changing a state that replay, which re-folds the
 * log through the machine, would not reach. Parts already frozen are not
 * walked again, so freezing the context a transition makes costs its new
 * parts, not the whole.
 */
export function freezeContext<T>(context: T): T {
  return freeze(context, true);
}

/** What V8 says when strict code changes a frozen object: adds, assigns, deletes or defines a property. */
const FROZEN_WRITE = /object is not extensible|read only property|Cannot delete property/;

/**
 * An error from changing a frozen context becomes a ContextMutatedError that
 * says what to do; anything else is left as it is. V8's TypeError, or
 * XState's plain Error around it for a guard, which repeats its message.
 */
export function explainMutation(workflow: string, error: unknown): unknown {
  return error instanceof Error && FROZEN_WRITE.test(error.message) ? new ContextMutatedError(workflow, error) : error;
}
