import type { Duration } from "../durations";
import type { Backoff, RetryConfig } from "../retry";

/** Retries and timeout of a task, as `step.do` takes them; the defaults are Cloudflare's. */
export interface TaskConfig {
  retries?: RetryConfig;
  timeout?: Duration;
}

/** What a task sees as `ctx.config`: its config with the defaults filled in, as Cloudflare's step context shows it. */
export interface TaskStepConfig {
  retries: { limit: number; delay: Duration; backoff: Backoff };
  timeout: Duration;
}

/** Cloudflare's step context, plus what every machine step receives. */
export interface TaskContext<P = unknown, E = unknown> {
  /** The instance's params. */
  params: P;
  /** The host's environment: the Worker's bindings and secrets on the Durable Object host. */
  env: E;
  /** Stable across attempts and replays: use it to make outside calls idempotent. */
  stepId: string;
  /** 1 for the first try; grows with every retry and every re-run after a crash. */
  attempt: number;
  /** Aborted when the attempt times out or the instance fails or ends. */
  signal: AbortSignal;
  /** The task's name; `count` is 1, or the item's position (from 1) in a map task. */
  step: { name: string; count: number };
  config: TaskStepConfig;
}

export interface MapItemContext<P = unknown, E = unknown> extends TaskContext<P, E> {
  /** The item's position in the list, from 0. */
  index: number;
}

/** The outputs of the tasks named in `needs`, by name. */
export type NeedOutputs<O, D extends keyof O> = { [K in D]: O[K] };

export interface TaskOptions<P, E, O, D extends keyof O, R> extends TaskConfig {
  /** The tasks whose outputs this one takes; it starts once all of them have succeeded. */
  needs?: readonly D[];
  run: (needs: NeedOutputs<O, D>, ctx: TaskContext<P, E>) => R;
  /** Undoes the task when the instance fails after it started (also when it failed itself or was cut short: `output` is then undefined). */
  rollback?: (undo: { output: Awaited<R> | undefined; error: Error; needs: NeedOutputs<O, D> }, ctx: TaskContext<P, E>) => unknown;
  rollbackConfig?: TaskConfig;
}

/** Names of the tasks whose output is a list, which a map task can go over. */
export type ListTasks<O> = { [K in keyof O]: O[K] extends readonly unknown[] ? K : never }[keyof O] & string;

export type ItemOf<L> = L extends readonly (infer I)[] ? I : never;

export interface MapOptions<P, E, O, S extends keyof O, D extends keyof O, R> extends TaskConfig {
  /** The task whose output (a list) is mapped: one durable step per item, each with its own retries. */
  over: S;
  /** Other tasks to wait for; their outputs are not passed to the items. */
  needs?: readonly D[];
  /** Items running at once (default 10, at most 100). */
  concurrency?: number;
  run: (item: ItemOf<O[S]>, ctx: MapItemContext<P, E>) => R;
  /** Undoes one item: each started item of a failed instance is undone, newest first. */
  rollback?: (undo: { item: ItemOf<O[S]>; index: number; output: Awaited<R> | undefined; error: Error }, ctx: MapItemContext<P, E>) => unknown;
  rollbackConfig?: TaskConfig;
}

export interface SleepOptions<D> {
  needs?: readonly D[];
  duration: Duration;
}

export interface EventOptions<D, Payload, T extends string = string> {
  needs?: readonly D[];
  /** The event type that opens the gate; its payload is the task's output. */
  type: T;
  /** How long to wait before the instance fails (default 24 hours, as Cloudflare's waitForEvent). */
  timeout?: Duration;
  /** Only its type is used: `payload: {} as { approved: boolean }` types the task's output. */
  payload?: Payload;
}

/** A task as the builder recorded it: plain data and the user's callbacks, checked by `defineDag`. */
export type TaskSpec = CallTask | MapTask | SleepTask | EventTask;

interface BaseTask {
  name: string;
  needs: readonly string[];
}

type AnyRollback = (undo: never, ctx: never) => unknown;

export interface CallTask extends BaseTask, TaskConfig {
  kind: "task";
  run: (needs: never, ctx: never) => unknown;
  rollback?: AnyRollback;
  rollbackConfig?: TaskConfig;
}

export interface MapTask extends BaseTask, TaskConfig {
  kind: "map";
  over: string;
  concurrency: number;
  run: (item: never, ctx: never) => unknown;
  rollback?: AnyRollback;
  rollbackConfig?: TaskConfig;
}

export interface SleepTask extends BaseTask {
  kind: "sleep";
  duration: Duration;
}

export interface EventTask extends BaseTask {
  kind: "event";
  type: string;
  timeout: Duration;
}

/** Every task this one waits for: its needs and, for a map, the list it goes over. */
export function dependencies(task: TaskSpec): string[] {
  return task.kind === "map" && !task.needs.includes(task.over) ? [task.over, ...task.needs] : [...task.needs];
}
