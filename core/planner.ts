import { initialTransition, type AnyEventObject, type AnyMachineSnapshot, type ExecutableActionObject } from "xstate";
import type { WorkflowDefinition } from "./definition";
import { InvalidDefinitionError, text } from "./errors";
import { toJson, type Json } from "./json";
import type { ErrorInfo } from "./records";
import type { Book, TimerEntry } from "./state";
import { checkContext } from "./snapshot";
import { explainMutation, freezeContext } from "./frozen-context";
import { pureTransition } from "./transition";
import { fail } from "./compensation";
import { invokeActive } from "./active-invokes";
import { get, put } from "./table";

/**
 * Interprets what one transition asked for. Built-in actions come back inert
 * from XState; this turns them into the book's tables (steps to run, timers
 * to arm) and keeps the user's own actions for the live host to run once.
 */
export interface Delivery {
  machine: AnyMachineSnapshot;
  /** The user's actions, for the live host; replay drops them. */
  actions: ExecutableActionObject[];
}

/** The most of a thrown error's message a record keeps: user text of any length, in a row SQLite caps at 2 MB. */
export const MAX_ERROR_MESSAGE_CHARS = 8 * 1024;
export const MAX_ERROR_NAME_CHARS = 256;

/**
 * `value` in at most `max` characters, its end replaced by a note of how
 * much was cut (never between the halves of a surrogate pair). A value cut
 * once is short enough to pass unchanged: an error rethrown from the log
 * records the same message.
 */
function bounded(value: string, max: number): string {
  if (value.length <= max) return value;
  const room = max - 40;
  const end = /[\ud800-\udbff]/.test(value[room - 1]!) ? room - 1 : room;
  return `${value.slice(0, end)}… [${value.length - end} more characters cut]`;
}

/** What a thrown value records: anything may be thrown, and whatever it is, this gives strings of bounded length and does not throw. */
export function errorInfo(error: unknown): ErrorInfo {
  const info = (name: string, message: string): ErrorInfo => ({ name: bounded(name, MAX_ERROR_NAME_CHARS), message: bounded(message, MAX_ERROR_MESSAGE_CHARS) });
  if (error instanceof Error) return info(text(error.name), text(error.message));
  if (typeof error === "object" && error !== null && "message" in error) {
    const { name, message } = error as { name?: unknown; message: unknown };
    return info(typeof name === "string" ? name : "Error", text(message));
  }
  return info("Error", text(error));
}

/** Children live in the book, not in the snapshot; dropping them makes a restored snapshot and a live one the same. */
export function withoutChildren(snapshot: AnyMachineSnapshot): AnyMachineSnapshot {
  return Object.keys(snapshot.children).length ? { ...snapshot, children: {} } : snapshot;
}

/**
 * Whether a state takes an event now. A guard that throws (one that changes a
 * frozen context in place, say) counts as taking it: the transition then
 * runs it again, inside advance, which fails the instance with the reason
 * recorded, instead of the error escaping the fold.
 */
export function accepts(machine: AnyMachineSnapshot, event: AnyEventObject): boolean {
  try {
    return machine.can(event);
  } catch {
    return true;
  }
}

function plan(def: WorkflowDefinition, book: Book, actions: ExecutableActionObject[], at: number, custom: ExecutableActionObject[]): void {
  for (const action of actions) {
    const params = (action.params ?? {}) as Record<string, unknown>;
    switch (action.type) {
      case "xstate.spawnChild": {
        const invokeId = (params.actorRef as { id?: string } | undefined)?.id ?? (params.id as string);
        const src = params.src;
        if (typeof src !== "string") throw new InvalidDefinitionError(def.name, `the child "${invokeId}" has no actor name; invoke steps by name.`);
        for (const entry of Object.values(book.steps)) if (entry.invokeId === invokeId) delete book.steps[entry.key];
        const generation = (get(book.stepGenerations, invokeId) ?? 0) + 1;
        book.stepGenerations = { ...book.stepGenerations, [invokeId]: generation };
        const key = `${invokeId}#${generation}`;
        put(book.steps, key, {
          key,
          invokeId,
          src,
          // Not bounded in bytes: an input is made of what the instance already holds (params, payloads, outputs, each
          // at most 1 MiB), and no record carries it (the book does, and snapshots are stored in parts), so a DAG task
          // that needs two tasks of 1 MiB each gets both.
          input: toJson(params.input, `the input of step "${invokeId}"`, Infinity),
          attempt: 0,
          failures: 0,
          phase: "ready",
        });
        break;
      }
      case "xstate.raise": {
        if (typeof params.delay !== "number") break;
        const sendId = params.id;
        if (typeof sendId !== "string") throw new InvalidDefinitionError(def.name, "a delayed raise() has no id; give it one so its timer survives replay.");
        const generation = (get(book.timerGenerations, sendId) ?? 0) + 1;
        book.timerGenerations = { ...book.timerGenerations, [sendId]: generation };
        put(book.timers, sendId, {
          id: `${sendId}#${generation}`,
          sendId,
          event: toJson(params.event, `the event of timer "${sendId}"`) as TimerEntry["event"],
          dueAt: at + params.delay,
        });
        break;
      }
      case "xstate.cancel":
        delete book.timers[params.sendId as string];
        break;
      case "xstate.sendTo":
        if (params.delay !== undefined) throw new InvalidDefinitionError(def.name, "a delayed sendTo() cannot be made durable; use raise(event, { delay, id }).");
        break;
      default:
        if (action.type.startsWith("xstate.")) break;
        // The live host runs it on the context it was given; frozen too, so a change in place throws there as well.
        if (def.freezeContext) freezeContext(action.info.context);
        custom.push(action);
    }
  }
}

function settle(def: WorkflowDefinition, book: Book, machine: AnyMachineSnapshot): void {
  if (machine.status === "error") return fail(def, book, errorInfo(machine.error), "error");
  if (machine.status === "done") {
    book.ended = { status: "complete", output: toJson(machine.output, "the machine's output") as Json };
    book.steps = {};
    book.timers = {};
    book.inbox = [];
    return;
  }
  for (const entry of Object.values(book.steps)) if (!invokeActive(machine, entry.invokeId)) delete book.steps[entry.key];
}

type Step = () => [AnyMachineSnapshot, ExecutableActionObject[]];

/**
 * One transition and what it asked for. Whatever goes wrong in it (an action
 * or a guard throws, a step's input or the output is not JSON, context is
 * not JSON) fails the instance from the state before it: the input that
 * caused it stays recorded and the fold records the reason. That is the only
 * outcome a recorded input can have: the log is the truth, the record is
 * written before its effects, and an input often has no caller left to refuse
 * (a step's result, a timer, an event taken from the inbox long after it was
 * sent), so failing here, in the fold, is what keeps it from writing records
 * and then stalling on a snapshot it cannot store.
 */
function advance(def: WorkflowDefinition, book: Book, machine: AnyMachineSnapshot, step: Step, at: number, custom: ExecutableActionObject[]): AnyMachineSnapshot {
  try {
    const [next, actions] = step();
    // Every assign makes a new context object; a transition that keeps the old one has nothing new to check.
    if (next.context !== machine.context) {
      checkContext(next.context, machine.context);
      if (def.freezeContext) freezeContext(next.context);
    }
    const stripped = withoutChildren(next);
    plan(def, book, actions, at, custom);
    settle(def, book, stripped);
    return stripped;
  } catch (error) {
    fail(def, book, errorInfo(def.freezeContext ? explainMutation(def.name, error) : error), "error");
    return machine;
  }
}

function run(def: WorkflowDefinition, book: Book, machine: AnyMachineSnapshot, step: Step, at: number): Delivery {
  const actions: ExecutableActionObject[] = [];
  let current = advance(def, book, machine, step, at, actions);
  for (;;) {
    if (book.ended || book.rollback) break;
    const index = book.inbox.findIndex((pending) => accepts(current, pending as AnyEventObject));
    if (index < 0) break;
    const [pending] = book.inbox.splice(index, 1);
    const from = current;
    current = advance(def, book, from, () => pureTransition(def.machine, from, { ...pending } as AnyEventObject), at, actions);
  }
  return { machine: current, actions };
}

/** Feeds one event to the machine, then any waiting inbox event that a state now accepts. */
export function deliver(def: WorkflowDefinition, book: Book, machine: AnyMachineSnapshot, event: AnyEventObject, at: number): Delivery {
  return run(def, book, machine, () => pureTransition(def.machine, machine, event), at);
}

/**
 * Starts the machine with its params: the initial transition and what it
 * asks for. A first state no snapshot could store is refused instead (it
 * throws, so nothing is written): no instance exists yet and its creator is
 * there to be told, and a restart, folding the same params, reaches the same
 * first state the creation did.
 */
export function begin(def: WorkflowDefinition, book: Book, params: Json | undefined, at: number): Delivery {
  const [initial, actions] = initialTransition(def.machine, params);
  checkContext(initial.context);
  if (def.freezeContext) freezeContext(initial.context);
  if (initial.status === "done") toJson(initial.output, "the machine's output");
  return run(def, book, initial, () => [initial, actions], at);
}
