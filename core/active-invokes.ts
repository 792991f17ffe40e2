import type { AnyMachineSnapshot, AnyStateMachine, StateValue } from "xstate";

interface InvokingNode {
  path: string[];
  invoke: { id: string }[];
  states: Record<string, InvokingNode>;
}

const pathsByMachine = new WeakMap<AnyStateMachine, Map<string, string[][]>>();

/** The paths of the state nodes that invoke each id, found once per machine. */
function invokePaths(machine: AnyStateMachine): Map<string, string[][]> {
  let paths = pathsByMachine.get(machine);
  if (paths) return paths;
  const found = new Map<string, string[][]>();
  const visit = (node: InvokingNode) => {
    for (const { id } of node.invoke) found.set(id, [...(found.get(id) ?? []), node.path]);
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root as unknown as InvokingNode);
  pathsByMachine.set(machine, (paths = found));
  return paths;
}

/** Whether the state at `path` is active, read along the path in the state value. */
function isActive(value: StateValue, path: readonly string[]): boolean {
  let at: StateValue | undefined = value;
  for (const [depth, key] of path.entries()) {
    if (typeof at === "string") return at === key && depth === path.length - 1;
    at = at?.[key];
    if (at === undefined) return false;
  }
  return true;
}

/**
 * Whether a state that invokes `invokeId` is active. Read from the state
 * value along that state's path rather than by listing every active node's
 * invokes: a DAG has a region per task, and this is asked after every step.
 */
export function invokeActive(snapshot: AnyMachineSnapshot, invokeId: string): boolean {
  return (invokePaths(snapshot.machine).get(invokeId) ?? []).some((path) => isActive(snapshot.value, path));
}
