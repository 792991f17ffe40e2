import type { CodeState } from "../core/code/fold";
import type { AnyWorkflowDefinition } from "../core/definition";
import { InvalidOperationError } from "../core/errors";
import { kindOf } from "../core/refusals";
import type { InstanceState } from "../core/state";
import { codeInstant, machineInstant, type Instant } from "../core/time-travel";
import { stateAfter } from "./inspection-pages";
import type { InstanceStore } from "./store";

/**
 * The instance as it stood after record `after` of its log, which ends at
 * `last`: folded as recovery folds it, from the newest snapshot at or before
 * `after` and the records between (so a long log costs its tail, not its
 * whole length), then shown. `after` is checked first: a record's seq.
 */
export function instantAfter(def: AnyWorkflowDefinition, store: InstanceStore, last: number, after: unknown): Instant {
  if (typeof after !== "number" || !Number.isSafeInteger(after) || after < 1 || after > last) {
    throw new InvalidOperationError("history.invalid_range", `after must be a record's seq, a whole number from 1 to ${last} (the log's last); got ${kindOf(after)}.`);
  }
  const state = stateAfter(def, store, after)!;
  return def.kind === "machine" ? machineInstant(state as InstanceState) : codeInstant(state as CodeState);
}
