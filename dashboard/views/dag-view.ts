import type { HistoryStep } from "../../core/step-history";
import { h, place, svg } from "../dom";
import type { DagShape } from "../inspect-socket";

/** Task kinds as the step history names their steps. */
const TASK_KINDS: Record<string, string> = { task: "step", event: "waitForEvent" };
const TASK_BADGES: Record<string, string> = { done: "ok", failed: "failed", running: "running", cancelled: "cancelled" };
const BOX = { width: 124, height: 52, gapX: 34, gapY: 14 };

type Task = DagShape["tasks"][number];
const needsOf = (task: Task) => [...new Set([...(task.over ? [task.over] : []), ...task.needs])];

/** Each task's column: one more than the deepest task it needs. */
function depths(tasks: readonly Task[]): Map<string, number> {
  const byName = new Map(tasks.map((task) => [task.name, task]));
  const depth = new Map<string, number>();
  const of = (name: string): number => {
    if (!depth.has(name)) depth.set(name, Math.max(-1, ...needsOf(byName.get(name)!).map(of)) + 1);
    return depth.get(name)!;
  };
  for (const task of tasks) of(task.name);
  return depth;
}

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

/**
 * A DAG's tasks in columns by dependency depth, an arrow per need, each box
 * with its kind and live state. The elkjs layout of dashboard/diagram/, with
 * zoom and pan, replaces it in the diagram panel when it lands.
 */
export function drawDag(shape: DagShape, value: unknown, steps: readonly HistoryStep[], context: unknown, ended: boolean): HTMLElement {
  const depth = depths(shape.tasks);
  const columns: string[][] = [];
  for (const task of shape.tasks) (columns[depth.get(task.name)!] ??= []).push(task.name);
  const tallest = Math.max(...columns.map((column) => column.length));
  const at = new Map(
    columns.flatMap((names, column) =>
      names.map((name, row) => [name, { x: column * (BOX.width + BOX.gapX), y: (row + (tallest - names.length) / 2) * (BOX.height + BOX.gapY) }] as const),
    ),
  );
  const width = columns.length * (BOX.width + BOX.gapX) - BOX.gapX;
  const height = tallest * (BOX.height + BOX.gapY) - BOX.gapY;
  const edges = shape.tasks.flatMap((task) =>
    needsOf(task).map((need) => {
      const from = at.get(need)!;
      const to = at.get(task.name)!;
      const [x1, y1, x2, y2] = [from.x + BOX.width, from.y + BOX.height / 2, to.x - 2, to.y + BOX.height / 2];
      const bend = (x1 + x2) / 2;
      return svg("path", { class: "edge", "data-from": need, "data-to": task.name, d: `M${x1} ${y1} C${bend} ${y1} ${bend} ${y2} ${x2} ${y2}`, "marker-end": "url(#dag-arrow)" });
    }),
  );
  const boxes = shape.tasks.map((task) => {
    const { x, y } = at.get(task.name)!;
    const now = taskState(task.name, value, steps, ended);
    const box = h(
      "div",
      { class: `dag-task ${now}`, "data-task": task.name, "data-task-state": now },
      h("div", { class: "name", title: task.name }, task.name, h("span", { class: "tag" }, TASK_KINDS[task.kind] ?? task.kind)),
      h("span", { class: `status ${TASK_BADGES[now] ?? ""}` }, now),
      task.kind === "map" && now !== "pending" && [" ", h("span", { class: "muted items" }, itemsDone(task.name, context))],
    );
    place(box, { left: x, top: y, width: BOX.width, height: BOX.height });
    return box;
  });
  const arrow = svg("defs", {}, svg("marker", { id: "dag-arrow", viewBox: "0 0 8 8", refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: "auto" }, svg("path", { d: "M0 0 L8 4 L0 8 z", class: "arrow-head" })));
  const graph = h("div", { class: "dag" }, svg("svg", { width, height }, arrow, edges), boxes);
  place(graph, { width, height });
  return graph;
}
