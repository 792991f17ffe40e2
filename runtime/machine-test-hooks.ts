import type { WorkflowDefinition } from "../core/definition";
import type { InstanceState, StepEntry, TimerEntry } from "../core/state";
import type { InstanceHooks, StepIdentity } from "./test-hooks";

const AFTER = /^xstate\.after\.[^.]+\.(.+)$/;

/** `<name>#<n>` split at its last `#`. */
function generation(key: string): { name: string; count: number } {
  const at = key.lastIndexOf("#");
  return { name: key.slice(0, at), count: Number(key.slice(at + 1)) };
}

/** A step of a machine as its step history names it: the actor it runs, the invoke's generation. */
export function machineStep(entry: Pick<StepEntry, "key" | "src">): StepIdentity {
  return { key: entry.key, name: entry.src, count: generation(entry.key).count };
}

/**
 * A machine timer as its step history names it (its send id), also answering to the id of the state whose `after`
 * armed it, without the machine's id, and to each part of that: `awaitingApproval` for `order.awaitingApproval`, a
 * DAG task's name for its sleep or event wait.
 */
export function machineTimer(timer: TimerEntry): StepIdentity {
  const { count } = generation(timer.id);
  const state = AFTER.exec(timer.sendId)?.[1];
  const parts = state?.split(".").slice(1) ?? [];
  const aliases = state ? [state, parts.join("."), ...parts] : [];
  return { key: timer.id, name: timer.sendId, count, aliases };
}

/** Whether the timer guards an event wait: the state that armed it also takes events of its own. */
function guardsWait(def: WorkflowDefinition, timer: TimerEntry): boolean {
  const state = AFTER.exec(timer.sendId)?.[1];
  if (!state) return false;
  try {
    return def.machine.getStateNodeById(state).ownEvents.some((type) => !type.startsWith("xstate."));
  } catch {
    return false;
  }
}

/**
 * The state with the timers and retries the test wants now moved to `now`, for a wake to fire them; undefined when
 * there are none. The log keeps each timer's own due time: the wake records that it fired, as an early alarm would.
 */
export function dueEarly(def: WorkflowDefinition, state: InstanceState, hooks: InstanceHooks, now: number): InstanceState | undefined {
  const { book } = state;
  if (book.ended || book.paused) return undefined;
  let timers: InstanceState["book"]["timers"] | undefined;
  for (const [sendId, timer] of Object.entries(book.timers)) {
    if (timer.dueAt <= now) continue;
    const step = machineTimer(timer);
    const wait = guardsWait(def, timer);
    if (hooks.skipsSleep(step, wait) || hooks.timesOutWait(step)) (timers ??= { ...book.timers })[sendId] = { ...timer, dueAt: now };
  }
  let steps: InstanceState["book"]["steps"] | undefined;
  for (const [key, entry] of Object.entries(book.steps)) {
    if (entry.phase !== "backoff" || (entry.retryAt ?? Infinity) <= now) continue;
    if (hooks.skipsRetryDelay(machineStep(entry))) (steps ??= { ...book.steps })[key] = { ...entry, retryAt: now };
  }
  if (!timers && !steps) return undefined;
  return { ...state, book: { ...book, timers: timers ?? book.timers, steps: steps ?? book.steps } };
}
