import { createActor, fromTransition, type AnyActorScope, type AnyEventObject, type AnyMachineSnapshot, type AnyStateMachine, type ExecutableActionObject } from "xstate";

interface InertScope {
  scope: AnyActorScope;
  actions: ExecutableActionObject[];
}

const scopes = new WeakMap<AnyStateMachine, InertScope>();

/** Logic that does nothing: an actor of it is cheap to build, and each one comes with an actor system of its own. */
const NOTHING = fromTransition((state: null) => state, null);

/**
 * XState's `transition()`, without its cost per call. XState builds a
 * throwaway actor for every call, and building it computes the machine's
 * initial state: the context factory runs (and, without input, often throws)
 * on every event. The scope here is built once per machine and is as inert:
 * actions are collected, never executed; nothing is deferred or started.
 *
 * The actor system is the one thing not shared between calls. A child
 * invoked with a `systemId` registers under it in the system of the call
 * that starts it, and nothing ever unregisters it (stopping is an action,
 * collected, not run), so a shared system refused the invoke's next start
 * with "Actor with system ID … already exists". Each call gets a fresh
 * system, as XState's own `transition()` does; a system in which no actor
 * holds an id is as good as fresh (its other tables fill only when actors
 * start or events are scheduled, which an inert scope never does), so it is
 * kept until one does, and machines without `systemId` pay nothing.
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
  if (Object.keys(inert.scope.system.getAll()).length) {
    // Children take their system from their parent, `self`, so both must hold the fresh one.
    const system = createActor(NOTHING).system;
    inert.scope.self.system = system;
    inert.scope.system = system;
  }
  const next = machine.transition(snapshot, event, inert.scope) as AnyMachineSnapshot;
  return [next, inert.actions];
}
