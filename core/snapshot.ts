import type { AnyActorScope, AnyMachineSnapshot } from "xstate";
import type { WorkflowDefinition } from "./definition";
import { DurableMachinesError } from "./errors";
import { assertPlainJson, MAX_JSON_DEPTH, toJson, type Json } from "./json";
import type { Book, InstanceState } from "./state";
import type { CodeState } from "./code/fold";
import { freezeContext } from "./frozen-context";

/** A machine's context holds stored values (each at most MAX_JSON_DEPTH deep) a few levels down, never thousands. */
const SNAPSHOT_DEPTH = 10 * MAX_JSON_DEPTH;

/** What a store keeps beside the log: a machine's persisted state, or a code-first fold (plain JSON as it is). */
export type StoredSnapshot = PersistedState | CodeState;

/** A state as stored beside the log: plain JSON that survives any round trip, history states included. */
export interface PersistedState {
  seq: number;
  at: number;
  machine: Json;
  book: Book;
}

/**
 * Throws, naming the first part JSON cannot carry (a Date, a Map, a class
 * instance, a function…), for context a snapshot could not store. The fold
 * checks every context a transition makes, so that no state it reaches
 * fails to be stored later. `previous`, the context before the transition,
 * was checked when it was made: only the values the transition replaced are
 * walked (every assign replaces the values it assigns).
 */
export function checkContext(context: unknown, previous?: unknown): void {
  // The snapshot holds context one level below its root.
  assertPlainJson(context, "context", SNAPSHOT_DEPTH - 1, previous);
}

export class SnapshotError extends DurableMachinesError {
  constructor(workflow: string, cause: Error) {
    // The fold checks every context a transition makes (checkContext), so only a change made in place, outside assign, gets here.
    super(
      "snapshot.not_serializable",
      `Workflow "${workflow}" has machine context that is not plain JSON (${cause.message}); something changed context in place, outside assign(): assign new plain values instead.`,
    );
  }
}

export function persist(def: WorkflowDefinition, state: InstanceState): PersistedState {
  const { children: _children, ...machine } = def.machine.getPersistedSnapshot(state.machine) as Record<string, unknown>;
  try {
    return { seq: state.seq, at: state.at, machine: toJson(machine, "machine snapshot", Infinity, SNAPSHOT_DEPTH) as Json, book: state.book };
  } catch (error) {
    throw new SnapshotError(def.name, error as Error);
  }
}

/** No children are restored: which steps run is the book's business, and the snapshot only needs states, context and history. */
export function restore(def: WorkflowDefinition, persisted: PersistedState): InstanceState {
  const machine = def.machine.restoreSnapshot(
    { ...(persisted.machine as object), children: {} } as never,
    undefined as unknown as AnyActorScope,
  ) as AnyMachineSnapshot;
  if (def.freezeContext) freezeContext(machine.context);
  return { seq: persisted.seq, at: persisted.at, machine, book: persisted.book };
}
