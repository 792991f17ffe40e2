import type { Json } from "../json";
import { get } from "../table";
import { MapInputError } from "./failures";
import { dependencies, type TaskSpec } from "./types";

/** A map task under way: which item each slot works on, and the results so far, in input order. */
export interface MapProgress {
  /** The next item to hand out. */
  next: number;
  /** Per slot, the index of its item, or null when it has none. */
  slots: (number | null)[];
  results: Json[];
}

/**
 * The compiled machine's context, plain JSON like every machine's. Every
 * update returns new objects: the snapshot a record was folded onto must not
 * change (the fold is pure).
 */
export interface DagContext {
  params: Json | undefined;
  outputs: Record<string, Json | undefined>;
  status: Record<string, "running" | "done">;
  /** Steps and maps running now, which `maxConcurrency` bounds; sleeps and event gates only wait, so they do not count. */
  running: number;
  maps: Record<string, MapProgress>;
}

/** What a task's step receives as its input; it is recorded, so a replay hands the same. */
export interface TaskInput {
  needs: Record<string, Json | undefined>;
  params: Json | undefined;
}

export interface ItemInput {
  item: Json;
  index: number;
  params: Json | undefined;
}

/** The DAG as the guards and updates need it, computed once at definition. */
export interface DagPlan {
  name: string;
  tasks: readonly TaskSpec[];
  byName: ReadonlyMap<string, TaskSpec>;
  waitsFor: ReadonlyMap<string, readonly string[]>;
  maxConcurrency: number | undefined;
  /** Every task is a step or a map: once the places are taken, nothing else starts. */
  onlyCounted: boolean;
}

const counted = (task: TaskSpec) => task.kind === "task" || task.kind === "map";

export function planOf(name: string, tasks: readonly TaskSpec[], maxConcurrency: number | undefined): DagPlan {
  return {
    name,
    tasks,
    byName: new Map(tasks.map((task) => [task.name, task])),
    waitsFor: new Map(tasks.map((task) => [task.name, dependencies(task)])),
    maxConcurrency,
    onlyCounted: tasks.every(counted),
  };
}

export function initialContext(params: Json | undefined): DagContext {
  return { params, outputs: {}, status: {}, running: 0, maps: {} };
}

function ready(plan: DagPlan, context: DagContext, task: string): boolean {
  return get(context.status, task) === undefined && plan.waitsFor.get(task)!.every((dependency) => get(context.status, dependency) === "done");
}

/**
 * The tasks that start from this context: every ready one, except that when
 * places are scarce the ready steps and maps declared first take them.
 */
function startable(plan: DagPlan, context: DagContext): ReadonlySet<string> {
  const starting = new Set<string>();
  let places = plan.maxConcurrency === undefined ? Infinity : plan.maxConcurrency - context.running;
  for (const task of plan.tasks) {
    if (places <= 0 && plan.onlyCounted) break;
    if (!ready(plan, context, task.name)) continue;
    if (!counted(task)) starting.add(task.name);
    else if (places-- > 0) starting.add(task.name);
  }
  return starting;
}

/** Contexts are never changed once made, so what starts from one is worked out once, not once per pending region. */
const startableFrom = new WeakMap<DagContext, ReadonlySet<string>>();

/**
 * Whether a pending task starts now. XState takes every enabled eventless
 * transition of a microstep at once, against one context, so the guards of
 * all the pending regions share one answer computed from that context: when
 * places are scarce, exactly as many start as there are places.
 */
export function canStart(plan: DagPlan, context: DagContext, task: string): boolean {
  let starting = startableFrom.get(context);
  if (!starting) startableFrom.set(context, (starting = startable(plan, context)));
  return starting.has(task);
}

function itemsOf(plan: DagPlan, context: DagContext, task: string): Json[] {
  const spec = plan.byName.get(task)!;
  return get(context.outputs, (spec as { over: string }).over) as Json[];
}

export function started(plan: DagPlan, context: DagContext, task: string): Partial<DagContext> {
  const spec = plan.byName.get(task)!;
  const update: Partial<DagContext> = { status: { ...context.status, [task]: "running" }, running: context.running + (counted(spec) ? 1 : 0) };
  if (spec.kind !== "map") return update;
  const items = get(context.outputs, spec.over);
  if (!Array.isArray(items)) throw new MapInputError(task, spec.over, items);
  const progress: MapProgress = { next: 0, slots: new Array<null>(spec.concurrency).fill(null), results: new Array<null>(items.length).fill(null) };
  return { ...update, maps: { ...context.maps, [task]: progress } };
}

export function finished(plan: DagPlan, context: DagContext, task: string, output: Json | undefined): Partial<DagContext> {
  const { [task]: _done, ...maps } = context.maps;
  return {
    status: { ...context.status, [task]: "done" },
    outputs: { ...context.outputs, [task]: output },
    running: context.running - (counted(plan.byName.get(task)!) ? 1 : 0),
    maps,
  };
}

export function taskInput(plan: DagPlan, context: DagContext, task: string): TaskInput {
  const spec = plan.byName.get(task)!;
  return { needs: Object.fromEntries(spec.needs.map((name) => [name, get(context.outputs, name)])), params: context.params };
}

/** Whether a free slot gets an item: as with starts, the free slots before it take the items left first. */
export function canClaim(plan: DagPlan, context: DagContext, task: string, slot: number): boolean {
  const { next, slots } = get(context.maps, task)!;
  const before = slots.slice(0, slot).filter((index) => index === null).length;
  return next + before < itemsOf(plan, context, task).length;
}

export function claimed(context: DagContext, task: string, slot: number): Partial<DagContext> {
  const progress = get(context.maps, task)!;
  const slots = progress.slots.with(slot, progress.next);
  return { maps: { ...context.maps, [task]: { ...progress, next: progress.next + 1, slots } } };
}

export function itemInput(plan: DagPlan, context: DagContext, task: string, slot: number): ItemInput {
  const index = get(context.maps, task)!.slots[slot]!;
  return { item: itemsOf(plan, context, task)[index]!, index, params: context.params };
}

export function collected(context: DagContext, task: string, slot: number, output: Json | undefined): Partial<DagContext> {
  const progress = get(context.maps, task)!;
  const index = progress.slots[slot]!;
  return { maps: { ...context.maps, [task]: { ...progress, slots: progress.slots.with(slot, null), results: progress.results.with(index, output ?? null) } } };
}

export function resultsOf(context: DagContext, task: string): Json[] {
  return get(context.maps, task)!.results;
}
