import { createActor, type AnyActorScope, type AnyEventObject, type AnyMachineSnapshot, type AnyStateMachine, type ExecutableActionObject } from "xstate";

interface InertScope {
  scope: AnyActorScope;
  actions: ExecutableActionObject[];
}

const scopes = new WeakMap<AnyStateMachine, InertScope>();

/**
 * XState's `transition()`, without its cost per call. XState builds a
 * throwaway actor for every call, and building it computes the machine's
 * initial state: the context factory runs (and, without input, often throws)
 * on every event. The scope here is built once per machine and is as inert:
 * actions are collected, never executed; nothing is deferred or started.
 */
export function pureTransition(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: AnyEventObject): [AnyMachineSnapshot, ExecutableActionObject[]] {
  let inert = scopes.get(machine);
  if (!inert) {
    const self = createActor(machine);
    const created: InertScope = {
      actions: [],
      scope: {
        self,
        defer: () => undefined,
        id: "",
        logger: () => undefined,
        sessionId: "",
        stopChild: () => undefined,
        system: self.system,
        emit: () => undefined,
        actionExecutor: (action: ExecutableActionObject) => void created.actions.push(action),
      } as unknown as AnyActorScope,
    };
    scopes.set(machine, (inert = created));
  }
  inert.actions = [];
  const next = machine.transition(snapshot, event, inert.scope) as AnyMachineSnapshot;
  return [next, inert.actions];
}
