import type { AnyActorScope, AnyMachineSnapshot } from "xstate";
import type { WorkflowDefinition } from "./definition";
import { DurableMachinesError } from "./errors";
import { MAX_JSON_DEPTH, toJson, type Json } from "./json";

/** A machine's context holds stored values (each at most MAX_JSON_DEPTH deep) a few levels down, never thousands. */
const SNAPSHOT_DEPTH = 10 * MAX_JSON_DEPTH;
import type { Book, InstanceState } from "./state";

/** A state as stored beside the log: plain JSON that survives any round trip, history states included. */
export interface PersistedState {
  seq: number;
  at: number;
  machine: Json;
  book: Book;
}

export class SnapshotError extends DurableMachinesError {
  constructor(workflow: string, cause: Error) {
    super("snapshot.not_serializable", `Workflow "${workflow}" has machine context that is not plain JSON (${cause.message}); keep context to what its inputs carried.`);
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
  return { seq: persisted.seq, at: persisted.at, machine, book: persisted.book };
}
