import { DurableMachinesError } from "../errors";

/** A DAG `defineDag` refuses; `code` says which rule it breaks, `dag` names the workflow. */
export class InvalidDagError extends DurableMachinesError {
  constructor(
    code: string,
    readonly dag: string,
    problem: string,
  ) {
    super(code, `DAG "${dag}" is invalid: ${problem}`);
  }
}

export class EmptyDagError extends InvalidDagError {
  constructor(dag: string) {
    super("dag.empty", dag, "it has no tasks; add at least one with dagTasks().task(...).");
  }
}

export class DuplicateTaskError extends InvalidDagError {
  constructor(
    dag: string,
    readonly task: string,
  ) {
    super("dag.duplicate_task", dag, `two tasks are named "${task}"; give each task its own name.`);
  }
}

export class UnknownDependencyError extends InvalidDagError {
  constructor(
    dag: string,
    readonly task: string,
    readonly dependency: string,
    known: readonly string[],
  ) {
    super("dag.unknown_dependency", dag, `task "${task}" needs "${dependency}", which is not one of its tasks (${known.map((n) => `"${n}"`).join(", ")}).`);
  }
}

export class DagCycleError extends InvalidDagError {
  constructor(
    dag: string,
    /** The tasks around the cycle, the first repeated at the end: ["a", "b", "a"]. */
    readonly cycle: readonly string[],
  ) {
    super("dag.cycle", dag, `its tasks need each other in a cycle, ${cycle.join(" -> ")}; a task can only need tasks that do not need it back.`);
  }
}

/** A task whose own options are wrong: its name, a duration, a concurrency, an event type. */
export class InvalidTaskError extends InvalidDagError {
  constructor(
    dag: string,
    readonly task: string,
    problem: string,
  ) {
    super("dag.invalid_task", dag, `task "${task}" ${problem}`);
  }
}
