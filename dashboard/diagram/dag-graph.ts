import { InvalidDiagramInputError } from "../../core/errors";
import type { DiagramEdge, DiagramGraph, DiagramNode } from "./graph";

/** A DAG's shape as its compiled machine keeps it in the root's `meta.dag` (shapeOf in core/dag/compile.ts). */
export interface DagShape {
  /** `label`, when given, is shown instead of the name, which stays the task's id (a code-first run's step key, see run-graph.ts). */
  tasks: readonly { name: string; label?: string; kind: string; needs: readonly string[]; over?: string }[];
  maxConcurrency?: number;
}

/** What each kind of task is called in Cloudflare's words, under its name. */
const KIND_LABELS: Record<string, string> = { task: "step", map: "map", sleep: "sleep", event: "waitForEvent" };

/** A DAG as one box per task and an arrow from each task to those that need it (a map's list is an "over" arrow); `kind` "run" for a code-first run's steps, drawn downwards. */
export function dagGraph(shape: DagShape, name = "DAG", kind: "tasks" | "run" = "tasks"): DiagramGraph {
  if (!shape || !Array.isArray(shape.tasks)) throw new InvalidDiagramInputError(`a DAG shape has a list of tasks, and this is ${JSON.stringify(shape) ?? String(shape)}`);
  const names = new Set<string>();
  for (const task of shape.tasks) {
    // A task's name is its box's id: two of one name would draw one box with both tasks' arrows.
    if (names.has(task.name)) throw new InvalidDiagramInputError(`two tasks are named "${task.name}"; a task's name is its id in the graph`);
    names.add(task.name);
  }
  const nodes: DiagramNode[] = shape.tasks.map((task) => ({
    id: `task:${task.name}`,
    kind: "task",
    path: task.name,
    label: task.label ?? task.name,
    details: [task.kind === "map" && task.over ? `map over ${task.over}` : (KIND_LABELS[task.kind] ?? task.kind)],
    region: false,
    children: [],
  }));
  let count = 0;
  const edges: DiagramEdge[] = shape.tasks.flatMap((task) => {
    const from = [...(task.over ? [{ need: task.over, kind: "over" as const }] : []), ...task.needs.filter((need: string) => need !== task.over).map((need: string) => ({ need, kind: "needs" as const }))];
    return from.map(({ need, kind }) => {
      if (!names.has(need)) throw new InvalidDiagramInputError(`task "${task.name}" needs "${need}", which is not a task of the DAG`);
      const id = `dependency${count++}`;
      return { id, kind, transition: id, source: `task:${need}`, target: `task:${task.name}`, label: undefined };
    });
  });
  return { title: kind === "run" ? `Steps of a run of ${name}` : `Task graph of ${name}`, kind, nodes, edges };
}
