import { toMilliseconds } from "../durations";
import { DurableMachinesError, text } from "../errors";
import { assertEventType } from "../ids";
import { toPolicy } from "../retry";
import { DagCycleError, DuplicateTaskError, EmptyDagError, InvalidDagError, InvalidTaskError, UnknownDependencyError } from "./errors";
import { dependencies, type CallTask, type MapTask, type TaskSpec } from "./types";

const TASK_NAME = /^[a-zA-Z0-9_][a-zA-Z0-9_-]{0,63}$/;
export const MAX_MAP_CONCURRENCY = 100;

/** The first cycle found by following what each task needs, as a path that ends where it began. */
export function findCycle(tasks: readonly TaskSpec[]): string[] | undefined {
  const byName = new Map(tasks.map((task) => [task.name, task]));
  const finished = new Set<string>();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const at = path.indexOf(name);
    if (at >= 0) return [...path.slice(at), name];
    if (finished.has(name)) return undefined;
    path.push(name);
    for (const dependency of dependencies(byName.get(name)!)) {
      const cycle = visit(dependency);
      if (cycle) return cycle;
    }
    path.pop();
    finished.add(name);
    return undefined;
  };
  for (const task of tasks) {
    const cycle = visit(task.name);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Runs `check`, turning the engine's own refusal of a value into one that names the task. */
function about<T>(dag: string, task: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof DurableMachinesError) throw new InvalidTaskError(dag, task, `has an invalid option: ${error.message}`);
    throw error;
  }
}

function checkStep(dag: string, task: CallTask | MapTask): void {
  if (typeof task.run !== "function") throw new InvalidTaskError(dag, task.name, "has no run function.");
  if (task.rollback !== undefined && typeof task.rollback !== "function") throw new InvalidTaskError(dag, task.name, "has a rollback that is not a function.");
  about(dag, task.name, () => toPolicy(task.name, { retries: task.retries, timeout: task.timeout }));
  about(dag, task.name, () => toPolicy(task.name, task.rollbackConfig));
}

function checkMap(dag: string, task: MapTask, byName: ReadonlyMap<string, TaskSpec>): void {
  if (!Number.isInteger(task.concurrency) || task.concurrency < 1 || task.concurrency > MAX_MAP_CONCURRENCY) {
    throw new InvalidTaskError(dag, task.name, `has concurrency ${text(task.concurrency)}; use a whole number from 1 to ${MAX_MAP_CONCURRENCY}.`);
  }
  if (byName.get(task.over)?.kind === "sleep") throw new InvalidTaskError(dag, task.name, `maps over "${task.over}", a sleep, which has no list to map.`);
  checkStep(dag, task);
}

function checkTask(dag: string, task: TaskSpec, byName: ReadonlyMap<string, TaskSpec>): void {
  if (!TASK_NAME.test(task.name)) throw new InvalidTaskError(dag, task.name, 'has an invalid name: use 1 to 64 letters, digits, "-" or "_", not starting with "-".');
  // A task is a state of the compiled machine, and XState keeps states in plain objects, where "__proto__" sets the prototype.
  if (task.name === "__proto__") throw new InvalidTaskError(dag, task.name, "has a name XState cannot give a state; choose another.");
  switch (task.kind) {
    case "task":
      return checkStep(dag, task);
    case "map":
      return checkMap(dag, task, byName);
    case "sleep":
      about(dag, task.name, () => toMilliseconds(task.duration));
      return;
    case "event":
      about(dag, task.name, () => assertEventType(task.type));
      // The gate is a transition on the event's type, which XState cannot serialize under these names.
      if (Object.hasOwn(Object.prototype, task.type)) throw new InvalidTaskError(dag, task.name, `waits for the event type "${task.type}", a name XState cannot serialize (it is a property of every object); use another.`);
      if (about(dag, task.name, () => toMilliseconds(task.timeout)) === 0) throw new InvalidTaskError(dag, task.name, "has a timeout of 0; give the event time to arrive.");
      return;
  }
}

/** Refuses, naming the culprit, everything that would make a DAG wrong or never finish. */
export function validateDag(dag: string, tasks: readonly TaskSpec[], maxConcurrency: number | undefined): void {
  if (tasks.length === 0) throw new EmptyDagError(dag);
  const byName = new Map<string, TaskSpec>();
  for (const task of tasks) {
    if (byName.has(task.name)) throw new DuplicateTaskError(dag, task.name);
    byName.set(task.name, task);
  }
  for (const task of tasks) {
    for (const dependency of dependencies(task)) {
      if (!byName.has(dependency)) throw new UnknownDependencyError(dag, task.name, dependency, [...byName.keys()]);
    }
  }
  const cycle = findCycle(tasks);
  if (cycle) throw new DagCycleError(dag, cycle);
  for (const task of tasks) checkTask(dag, task, byName);
  if (maxConcurrency !== undefined && (!Number.isInteger(maxConcurrency) || maxConcurrency < 1)) {
    throw new InvalidDagError("dag.invalid_option", dag, `maxConcurrency must be a whole number above 0, got ${text(maxConcurrency)}.`);
  }
}
