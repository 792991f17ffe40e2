import type { DagShape } from "./dag-graph";

/**
 * A code-first run drawn as the graph its steps formed: a class's `run()` has
 * no states to draw, but its log says which steps ran one after another and
 * which side by side (a `Promise.all`). Step B follows step A when A's end
 * record comes before B's start record; the arrows are that order with every
 * arrow another path already implies left out (its transitive reduction), so
 * a chain reads as a chain and a fan-out as a fan. Records' seqs, not their
 * times, decide: steps finished in the same millisecond are still ordered.
 */

/** What the graph needs of a step (core/step-history.ts's HistoryStep has it). */
export interface RunStep {
  key: string;
  name: string;
  count: number;
  kind: string;
  startSeq: number;
  endSeq?: number;
  success: boolean | null;
  cancelled?: true;
}

/** The most steps drawn: past it, the newest are, and the graph says how many it left out. */
export const MAX_RUN_STEPS = 1000;

/** The most arrows drawn: full fans between wide `Promise.all`s grow as their product, so past this a step keeps only its nearest predecessor. */
export const MAX_RUN_EDGES = 10_000;

export interface RunGraph {
  shape: DagShape;
  /** Each step's state by its id (its key; `rollback:<key>` for a rollback), as the DAG diagram colours tasks. */
  taskStates: Record<string, string>;
  /** Steps older than the newest MAX_RUN_STEPS, not drawn. */
  omitted: number;
  /** Whether some step kept only its nearest predecessor, because the arrows reached MAX_RUN_EDGES. */
  thinned: boolean;
}

/** How each step kind reads under its name (the DAG diagram's kinds, and rollback as itself). */
const TASK_KINDS: Record<string, string> = { do: "task", step: "task", sleep: "sleep", timer: "sleep", waitForEvent: "event", event: "event", rollback: "rollback" };

function stateOf(step: RunStep): string {
  if (step.cancelled) return "cancelled";
  if (step.success === null) return "running";
  return step.success ? "done" : "failed";
}

/** A step's id in the graph: a rollback shares its key with the step it undoes, so it is told apart, as the step history tells it. */
const idOf = (step: RunStep) => (step.kind === "rollback" ? `rollback:${step.key}` : step.key);

/** The first index of `ended` (sorted by endSeq) from `from` whose endSeq is above `seq`. */
function firstEndingAfter(ended: readonly RunStep[], seq: number, from: number, to: number): number {
  let low = from;
  let high = to;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ended[middle]!.endSeq! > seq) high = middle;
    else low = middle + 1;
  }
  return low;
}

/**
 * The run's steps as a DAG shape. For each step B, in order of start, the
 * steps that ended before B started are its possible predecessors; of those,
 * one is implied through another exactly when some other ended step started
 * after it ended. So with M the latest start among the steps ended before B,
 * B's direct predecessors are those that ended after M: O(n log n) plus the
 * arrows drawn.
 */
export function runGraph(steps: readonly RunStep[]): RunGraph {
  const byStart = [...steps].sort((a, b) => a.startSeq - b.startSeq);
  const omitted = Math.max(0, byStart.length - MAX_RUN_STEPS);
  const shown = byStart.slice(omitted);
  const ended = shown.filter((step) => step.endSeq !== undefined).sort((a, b) => a.endSeq! - b.endSeq!);
  const tasks: DagShape["tasks"][number][] = [];
  const taskStates: Record<string, string> = Object.create(null);
  let edges = 0;
  let thinned = false;
  let passed = 0;
  let latestStart = -Infinity;
  for (const step of shown) {
    for (; passed < ended.length && ended[passed]!.endSeq! < step.startSeq; passed++) latestStart = Math.max(latestStart, ended[passed]!.startSeq);
    let needs = ended.slice(firstEndingAfter(ended, latestStart, 0, passed), passed).map(idOf);
    if (edges + needs.length > MAX_RUN_EDGES && needs.length > 1) {
      needs = needs.slice(-1);
      thinned = true;
    }
    edges += needs.length;
    tasks.push({ name: idOf(step), label: step.count > 1 ? `${step.name} #${step.count}` : step.name, kind: TASK_KINDS[step.kind] ?? step.kind, needs });
    taskStates[idOf(step)] = stateOf(step);
  }
  return { shape: { tasks }, taskStates, omitted, thinned };
}

/** The steps as they stood just after record `seq`: later ones not begun, and those that ended later still running (time travel's view of a run). */
export function runAsOf(steps: readonly RunStep[], seq: number): RunStep[] {
  return steps
    .filter((step) => step.startSeq <= seq)
    .map((step) => (step.endSeq === undefined || step.endSeq <= seq ? step : { key: step.key, name: step.name, count: step.count, kind: step.kind, startSeq: step.startSeq, success: null }));
}
