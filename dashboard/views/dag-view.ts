import type { HistoryStep } from "../../core/step-history";
import { h } from "../dom";
import type { DagShape } from "../inspect-socket";

/** The task's region says pending, running or done; a step of it that failed for good, or the run ending while it ran, says more. */
function taskState(name: string, value: unknown, steps: readonly HistoryStep[], ended: boolean): string {
  const region = value && typeof value === "object" ? (value as Record<string, unknown>)[name] : undefined;
  const here = typeof region === "string" ? region : region && typeof region === "object" ? (Object.keys(region)[0] ?? "pending") : "pending";
  if (here !== "running") return here;
  if (steps.some((step) => step.name === name && step.kind === "step" && step.success === false)) return "failed";
  return ended ? "cancelled" : "running";
}

interface MapProgress {
  next: number;
  slots: (unknown | null)[];
  results: unknown[];
}

/** A map's items done and in all, from the machine's context (see MapProgress in core/dag/context.ts). */
function itemsDone(name: string, context: unknown): string {
  const { maps, outputs } = (context ?? {}) as { maps?: Record<string, MapProgress>; outputs?: Record<string, unknown> };
  const progress = maps?.[name];
  if (progress) return `${progress.next - progress.slots.filter((slot) => slot !== null).length}/${progress.results.length} items`;
  const output = outputs?.[name];
  return Array.isArray(output) ? `${output.length} items` : "";
}

/** Each task's state, the class its box in the task graph takes ("running" ones lit). */
export function taskStates(shape: DagShape, value: unknown, steps: readonly HistoryStep[], ended: boolean): Record<string, string> {
  return Object.fromEntries(shape.tasks.map((task) => [task.name, taskState(task.name, value, steps, ended)]));
}

/** Under the graph, how far each started map task got: the graph's boxes hold only names. */
export function mapProgress(shape: DagShape, states: Record<string, string>, context: unknown): HTMLElement | false {
  const maps = shape.tasks.filter((task) => task.kind === "map" && states[task.name] !== "pending");
  return (
    maps.length > 0 &&
    h(
      "ul",
      { class: "map-progress muted" },
      maps.map((task) => h("li", { "data-task": task.name }, `${task.name}: `, h("span", { class: "items" }, itemsDone(task.name, context)))),
    )
  );
}
