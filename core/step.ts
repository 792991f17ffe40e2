import { fromPromise, type NonReducibleUnknown } from "xstate";
import type { StepArgs } from "./definition";

/**
 * A step actor whose body also receives its `stepId` and `attempt`. It is a
 * plain `fromPromise` actor, so it still runs in an ordinary XState actor.
 * (`TInput` defaults to XState's NonReducibleUnknown: a bare `unknown` would
 * swallow the type of the invoke's `input` mapper.)
 */
export function step<TOutput, TInput = NonReducibleUnknown, TEnv = unknown>(body: (args: StepArgs<TInput, TEnv>) => PromiseLike<TOutput> | TOutput) {
  return fromPromise<TOutput, TInput>(async (args) => body(args as unknown as StepArgs<TInput, TEnv>));
}
