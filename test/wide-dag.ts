import { dagTasks, defineDag, type DagTasks } from "../index";

/** The DAG's size: 50 layers of 20 tasks, 1,000 in all, the size the dashboard promises to draw unclipped. */
export const WIDE_DAG_LAYERS = 50;
export const WIDE_DAG_WIDTH = 20;

/** A task's name by its layer and place in it. */
export const wideTaskName = (layer: number, n: number) => `layer${layer}-task${n}`;

/** The builder without its per-name types: a thousand chained calls would make TypeScript carry a thousand-key type. */
interface LooseTasks {
  task(name: string, options: { needs: string[]; run: () => number }): LooseTasks;
  waitForEvent(name: string, options: { needs: string[]; type: string }): LooseTasks;
}

/**
 * 1,000 tasks, each needing two tasks of the layer before: the first layer
 * runs (20 quick steps), the second is 20 gates waiting for `go`, so an
 * instance settles at once with every kind of task state in its graph and
 * no work left running (it never gets `go` in the tests).
 */
function wideTasks(): DagTasks {
  let tasks = dagTasks() as unknown as LooseTasks;
  for (let layer = 0; layer < WIDE_DAG_LAYERS; layer++) {
    for (let n = 0; n < WIDE_DAG_WIDTH; n++) {
      const needs = layer ? [wideTaskName(layer - 1, n), wideTaskName(layer - 1, (n + 1) % WIDE_DAG_WIDTH)] : [];
      tasks = layer === 1 ? tasks.waitForEvent(wideTaskName(layer, n), { needs, type: "go" }) : tasks.task(wideTaskName(layer, n), { needs, run: () => layer });
    }
  }
  return tasks as unknown as DagTasks;
}

export const wideDag = defineDag({ name: "dag-wide", tasks: wideTasks() });
