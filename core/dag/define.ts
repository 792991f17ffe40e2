import type { AnyStateMachine } from "xstate";
import { defineWorkflow, type WorkflowDefinition } from "../definition";
import type { ClientEvent, WorkflowTypes } from "../workflow-types";
import { compileDag, stepConfigs, type DagOutput } from "./compile";
import { planOf } from "./context";
import type { DagTasks } from "./tasks";
import { validateDag } from "./validate";

export interface DagOptions<P, E, O, R, N extends string = string, V extends ClientEvent = never> {
  /** The name instances are created under; 1 to 64 letters, digits, "-" or "_". */
  name: N;
  /** Built with `dagTasks<Params, Env>()`: each task declared after the tasks it needs. */
  tasks: DagTasks<P, E, O, V>;
  /** The instance's output, from every task's output (pure: it runs again on replay). Without it, the output is all of them by name. */
  output?: (outputs: O, params: P) => R;
  /** How many steps and map tasks of one instance run at once; sleeps and event gates do not count. Unbounded without it. */
  maxConcurrency?: number;
  /** Change it when behaviour changes without the DAG's shape changing; it is part of the pinned hash. */
  version?: string;
}

/**
 * Declares a DAG workflow. It is refused here, naming the culprit, if it is
 * empty, names a task twice, needs a task that does not exist, or has a
 * cycle. What comes back is an ordinary machine workflow (the DAG compiled
 * to a parallel machine), served, replayed and inspected like any other.
 * Its client takes the DAG's params and its gates' events, and gives its
 * output.
 */
export function defineDag<P, E, O, R = O, const N extends string = string, V extends ClientEvent = never>(
  options: DagOptions<P, E, O, R, N, V>,
): WorkflowDefinition<AnyStateMachine, N, WorkflowTypes<P, V, R>> {
  const { name, tasks, output, maxConcurrency, version } = options;
  const specs = tasks?.specs ?? [];
  validateDag(name, specs, maxConcurrency);
  const plan = planOf(name, specs, maxConcurrency);
  const def = defineWorkflow({ name, machine: compileDag(plan, output as DagOutput | undefined), version, steps: stepConfigs(specs) });
  // The compiled machine is typed loosely; the tasks know the params, gates and output, so the phantom types come from them.
  return def as WorkflowDefinition<AnyStateMachine, N, WorkflowTypes<P, V, R>>;
}
