import type { AnyActorScope, AnyMachineSnapshot, AnyStateMachine, EventObject } from "xstate";

type Assignment = (args: { context: unknown; event: EventObject; self: unknown; system: unknown }, params: unknown) => object;

/** XState's `assign()` action as it comes back from `assign(...)`: a function carrying its assignment and how to resolve it. */
interface AssignAction {
  type: "xstate.assign";
  assignment: Assignment;
  resolve: (...args: never[]) => unknown;
}

const isAssign = (action: unknown): action is AssignAction => typeof action === "function" && (action as { type?: unknown }).type === "xstate.assign";

/**
 * The same assign, resolved without rebuilding the state. An assign changes
 * only the context; XState still makes a whole new snapshot for it, working
 * the state value out again from every active state node: with a region per
 * task, that walks every task twice per step (the finish and the start). The
 * snapshot here keeps the value, nodes and tags it had, which are the ones
 * XState would compute again from the same nodes.
 */
function lightAssign(action: AssignAction): AssignAction {
  const resolve = (scope: AnyActorScope, snapshot: AnyMachineSnapshot, args: { event: EventObject }, params: unknown) => {
    const update = action.assignment({ context: snapshot.context, event: args.event, self: scope.self, system: scope.system }, params);
    return [{ ...snapshot, context: { ...snapshot.context, ...update } }, undefined, undefined];
  };
  return Object.assign(function lightAssign() {}, { type: action.type, assignment: action.assignment, resolve });
}

/** Gives a compiled DAG's assign actions the light resolution above; the machine's other implementations stay as they were. */
export function withLightAssigns(machine: AnyStateMachine): AnyStateMachine {
  const actions = Object.fromEntries(Object.entries(machine.implementations.actions).map(([type, action]) => [type, isAssign(action) ? lightAssign(action) : action]));
  return Object.assign(machine, { implementations: { ...machine.implementations, actions } });
}
