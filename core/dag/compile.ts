import { assign, setup, type AnyStateMachine } from "xstate";
import { toMilliseconds } from "../durations";
import type { Json } from "../json";
import type { StepConfig } from "../retry";
import { step } from "../step";
import { itemBody, itemRollbackBody, taskBody, taskRollbackBody } from "./bodies";
import {
  canClaim,
  canStart,
  claimed,
  collected,
  finished,
  initialContext,
  itemInput,
  resultsOf,
  started,
  taskInput,
  type DagContext,
  type DagPlan,
} from "./context";
import { EventTimeoutError } from "./failures";
import { withLightAssigns } from "./assigns";
import { withRoutedEvents } from "./routing";
import { withDirectStart } from "./start";
import type { EventTask, MapTask, TaskSpec } from "./types";

/** The actor that undoes a task (or one item of a map): a compensation step of the machine saga. */
const rollbackActor = (task: string) => `${task}.rollback`;

/** The invoke of one slot of a map: its steps are keyed `<task>.slot<k>#<generation>`, a generation per item the slot takes. */
const slotInvoke = (task: string, slot: number) => `${task}.slot${slot}`;

type DagEvent = { type: string; output?: Json; payload?: Json };
type TaskParams = { task: string };
type SlotParams = { task: string; slot: number };

const at = (task: string) => ({ params: { task } });

function stepRunning(plan: DagPlan, name: string) {
  return {
    invoke: {
      id: name,
      src: name,
      input: ({ context }: { context: DagContext }) => taskInput(plan, context, name),
      onDone: { target: "done", actions: { type: "finish", ...at(name) } },
    },
  };
}

function sleepRunning(name: string, duration: number) {
  return { after: { [duration]: { target: "done", actions: { type: "wake", ...at(name) } } } };
}

function eventRunning(task: EventTask) {
  const ms = toMilliseconds(task.timeout);
  return {
    on: { [task.type]: { target: "done", actions: { type: "receive", ...at(task.name) } } },
    after: { [ms]: { actions: { type: "timeOut", params: { task: task.name, type: task.type, ms } } } },
  };
}

/** A slot takes an item, runs it, and comes back for the next; once none is left, it finishes. */
function slot(plan: DagPlan, task: MapTask, k: number) {
  const name = task.name;
  const params = { task: name, slot: k };
  return {
    initial: "idle",
    states: {
      idle: { always: [{ guard: { type: "canClaim", params: { ...params, over: task.over } }, target: "working", actions: { type: "claim", params } }, { target: "finished" }] },
      working: {
        invoke: {
          id: slotInvoke(name, k),
          src: name,
          input: ({ context }: { context: DagContext }) => itemInput(plan, context, name, k),
          onDone: { target: "idle", actions: { type: "collect", params } },
        },
      },
      finished: { type: "final" },
    },
  };
}

function mapRunning(plan: DagPlan, task: MapTask) {
  const slots = Array.from({ length: task.concurrency }, (_, k) => [`slot${k}`, slot(plan, task, k)]);
  return { type: "parallel", states: Object.fromEntries(slots), onDone: { target: "done", actions: { type: "finishMap", ...at(task.name) } } };
}

function running(plan: DagPlan, task: TaskSpec) {
  switch (task.kind) {
    case "task":
      return stepRunning(plan, task.name);
    case "map":
      return mapRunning(plan, task);
    case "sleep":
      return sleepRunning(task.name, toMilliseconds(task.duration));
    case "event":
      return eventRunning(task);
  }
}

/**
 * One region per task, named after it: pending until what it needs is done
 * (and a place is free), then running, then done. The guard's params name
 * what the task waits for (and a slot's, the list it takes items from), for
 * whoever reads the machine in the inspector.
 */
function region(plan: DagPlan, task: TaskSpec) {
  return {
    initial: "pending",
    states: {
      pending: {
        always: { guard: { type: "canStart", params: { task: task.name, needs: plan.waitsFor.get(task.name) } }, target: "running", actions: { type: "start", ...at(task.name) } },
      },
      running: running(plan, task),
      done: { type: "final" },
    },
  };
}

function actorsOf(tasks: readonly TaskSpec[]) {
  const actors: Record<string, ReturnType<typeof step>> = {};
  for (const task of tasks) {
    if (task.kind === "task") actors[task.name] = step(taskBody(task));
    if (task.kind === "map") actors[task.name] = step(itemBody(task));
    if (task.kind === "task" && task.rollback) actors[rollbackActor(task.name)] = step(taskRollbackBody(task));
    if (task.kind === "map" && task.rollback) actors[rollbackActor(task.name)] = step(itemRollbackBody(task));
  }
  return actors;
}

/** Retries and timeouts per step actor, and the saga: a task with a rollback is compensated by its rollback actor. */
export function stepConfigs(tasks: readonly TaskSpec[]): Record<string, StepConfig> {
  const steps: Record<string, StepConfig> = {};
  for (const task of tasks) {
    if (task.kind !== "task" && task.kind !== "map") continue;
    steps[task.name] = { retries: task.retries, timeout: task.timeout, ...(task.rollback ? { compensate: rollbackActor(task.name) } : {}) };
    if (task.rollback) steps[rollbackActor(task.name)] = { ...task.rollbackConfig };
  }
  return steps;
}

/**
 * The DAG's shape, kept in the root's meta so that the pinned hash covers
 * the bound (it lives in guard implementations, which no JSON shows) and
 * the inspector shows what each task needs or maps over.
 */
function shapeOf(plan: DagPlan) {
  const tasks = plan.tasks.map((task) => ({ name: task.name, kind: task.kind, needs: task.needs, ...(task.kind === "map" ? { over: task.over } : {}) }));
  return { tasks, ...(plan.maxConcurrency === undefined ? {} : { maxConcurrency: plan.maxConcurrency }) };
}

export type DagOutput = (outputs: Record<string, Json | undefined>, params: Json | undefined) => unknown;

/**
 * The DAG as an XState machine: a parallel region per task. A region waits
 * in `pending` on an eventless transition guarded by its dependencies, then
 * invokes its step (a map runs a parallel state of slots that each take
 * items in turn), sleeps, or waits for its event. When every region is done,
 * the machine is, with the output. A step that fails for good is an
 * unhandled `xstate.error.actor` event, which errors the machine: the host
 * stops the other steps and runs the saga, as for any machine.
 */
export function compileDag(plan: DagPlan, output: DagOutput | undefined): AnyStateMachine {
  const doneWith = (task: string, context: DagContext, value: Json | undefined) => finished(plan, context, task, value);
  const machine = setup({
    types: { context: {} as DagContext, input: {} as Json | undefined, events: {} as DagEvent },
    actors: actorsOf(plan.tasks),
    guards: {
      canStart: ({ context }, { task }: TaskParams) => canStart(plan, context, task),
      canClaim: ({ context }, { task, slot }: SlotParams) => canClaim(plan, context, task, slot),
    },
    actions: {
      start: assign(({ context }, { task }: TaskParams) => started(plan, context, task)),
      finish: assign(({ context, event }, { task }: TaskParams) => doneWith(task, context, event.output)),
      receive: assign(({ context, event }, { task }: TaskParams) => doneWith(task, context, event.payload)),
      wake: assign(({ context }, { task }: TaskParams) => doneWith(task, context, undefined)),
      timeOut: assign((_, { task, type, ms }: { task: string; type: string; ms: number }): Partial<DagContext> => {
        throw new EventTimeoutError(task, type, ms);
      }),
      claim: assign(({ context }, { task, slot }: SlotParams) => claimed(context, task, slot)),
      collect: assign(({ context, event }, { task, slot }: SlotParams) => collected(context, task, slot, event.output)),
      finishMap: assign(({ context }, { task }: TaskParams) => doneWith(task, context, resultsOf(context, task))),
    },
  }).createMachine({
    id: plan.name,
    type: "parallel",
    meta: { dag: shapeOf(plan) },
    context: ({ input }) => initialContext(input),
    states: Object.fromEntries(plan.tasks.map((task) => [task.name, region(plan, task)])) as Record<string, object>,
    output: ({ context }) => (output ? output(context.outputs, context.params) : context.outputs),
  });
  return withLightAssigns(withRoutedEvents(withDirectStart(machine, plan)));
}
