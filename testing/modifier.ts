import { InvalidTestModifierError } from "../core/errors";
import { assertEventType } from "../core/ids";
import type { ModifierSet, StepSelector } from "../runtime/test-hooks";

export type { StepSelector };

function assertSelector(selector: unknown, what: string): asserts selector is StepSelector {
  const ok =
    typeof selector === "object" &&
    selector !== null &&
    (("key" in selector && typeof selector.key === "string") ||
      ("name" in selector &&
        typeof selector.name === "string" &&
        (!("index" in selector) || selector.index === undefined || (Number.isInteger(selector.index) && (selector.index as number) >= 1))));
  if (!ok) throw new InvalidTestModifierError(`${what} needs a step as { name, index? } (index a whole number from 1) or { key } as the step history shows it; got ${JSON.stringify(selector)}.`);
}

function assertTimes(times: unknown, what: string): asserts times is number | undefined {
  if (times !== undefined && !(Number.isInteger(times) && (times as number) >= 1)) throw new InvalidTestModifierError(`${what}'s times must be a whole number from 1, or left out for every attempt; got ${JSON.stringify(times)}.`);
}

/** The same step named the same way twice: a step is found by name and index, or by key. */
function sameStep(a: StepSelector, b: StepSelector): boolean {
  if ("key" in a || "key" in b) return "key" in a && "key" in b && a.key === b.key;
  return a.name === b.name && (a.index ?? 1) === (b.index ?? 1);
}

/**
 * What a test asks of an instance, as Cloudflare's WorkflowInstanceModifier: each call adds to the instance's
 * modifiers, which the engine consults as it runs. A step is `{ name, index? }` (the index-th step of that name, from
 * 1, the first by default) or `{ key }` as the step history shows it (`do:charge-1`, `charge#1`). The methods are
 * async, as Cloudflare's are, though they apply at once.
 */
export class WorkflowInstanceModifier {
  /** @internal */
  constructor(private readonly set: ModifierSet) {}

  /** `step.sleep` and `step.sleepUntil` (a machine's `after` that guards no event wait, a DAG's `.sleep`) end at once: all of them, or these. */
  async disableSleeps(steps?: StepSelector[]): Promise<void> {
    if (steps === undefined) return void (this.set.sleeps.all = true);
    for (const step of steps) assertSelector(step, "disableSleeps");
    this.set.sleeps.steps.push(...steps);
  }

  /** A failed attempt is retried at once instead of after its delay (its delay function is not asked): every step's, or these. */
  async disableRetryDelays(steps?: StepSelector[]): Promise<void> {
    if (steps === undefined) return void (this.set.retryDelays.all = true);
    for (const step of steps) assertSelector(step, "disableRetryDelays");
    this.set.retryDelays.steps.push(...steps);
  }

  /** The step returns `result` without running its body (after the attempts an earlier mockStepError or forceStepTimeout takes). */
  async mockStepResult(step: StepSelector, result: unknown): Promise<void> {
    assertSelector(step, "mockStepResult");
    if (this.set.mocks.some((m) => m.mock.type === "result" && sameStep(m.step, step))) throw new InvalidTestModifierError(`mockStepResult was already called for ${JSON.stringify(step)}: a step has one mocked result.`);
    this.set.mocks.push({ step, mock: { type: "result", value: result } });
  }

  /** The step's attempts throw `error` without running its body: `times` attempts, or every one. */
  async mockStepError(step: StepSelector, error: Error, times?: number): Promise<void> {
    assertSelector(step, "mockStepError");
    assertTimes(times, "mockStepError");
    if (!(error instanceof Error)) throw new InvalidTestModifierError(`mockStepError needs an Error to throw; got ${JSON.stringify(error)}.`);
    this.set.mocks.push({ step, mock: { type: "error", error, ...(times === undefined ? {} : { times }) } });
  }

  /** The step's attempts fail at once as a timeout does (WorkflowTimeoutError), without running its body: `times` attempts, or every one. */
  async forceStepTimeout(step: StepSelector, times?: number): Promise<void> {
    assertSelector(step, "forceStepTimeout");
    assertTimes(times, "forceStepTimeout");
    this.set.mocks.push({ step, mock: { type: "timeout", ...(times === undefined ? {} : { times }) } });
  }

  /** Delivers the event once, when a wait for its type is open (a code-first `waitForEvent`, a machine state that takes it), so no earlier state takes it on the way. */
  async mockEvent(event: { type: string; payload?: unknown }): Promise<void> {
    assertEventType(event?.type);
    this.set.events.push({ type: event.type, payload: event.payload });
  }

  /** The event wait times out at once: a code-first `waitForEvent`, a DAG's `.waitForEvent` task, a machine state's `after` (the state's id or the timer's key). */
  async forceEventTimeout(step: StepSelector): Promise<void> {
    assertSelector(step, "forceEventTimeout");
    this.set.eventTimeouts.push(step);
  }
}
