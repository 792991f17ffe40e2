import type { ClientEvent } from "../workflow-types";
import type { EventOptions, ListTasks, MapOptions, SleepOptions, TaskOptions, TaskSpec } from "./types";

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The outputs so far plus one more task's. */
type With<O, N extends string, V> = Simplify<O & { [K in N]: V }>;

/** A name not taken yet: a duplicate is a compile error (and `defineDag` refuses it at run time too). */
type Fresh<N extends string, O> = N extends keyof O ? never : N;

/** The event that opens a gate, as a client sends it: with the payload the gate declares, or any when it declares none. */
type GateEvent<T extends string, Payload> = unknown extends Payload ? { type: T; payload?: unknown } : { type: T; payload: Payload };

export const DEFAULT_MAP_CONCURRENCY = 10;

/** Cloudflare's default for step.waitForEvent. */
export const DEFAULT_EVENT_TIMEOUT = "24 hours";

/**
 * The tasks of a DAG, declared in order: a task may only need tasks declared
 * before it, so TypeScript knows their outputs and types each callback's
 * arguments by name. Each call returns a new list; the one it was called on
 * is unchanged, so a shared prefix can be extended in several ways.
 *
 * `P` types the instance params and `E` the environment every task receives;
 * `V` gathers the events its gates wait for, which type the client's sendEvent().
 */
export class DagTasks<P = unknown, E = unknown, O = {}, V extends ClientEvent = never> {
  /** Phantom: carries the types for `defineDag`; never set. */
  declare readonly types?: { params: P; env: E; outputs: O; events: V };

  constructor(readonly specs: readonly TaskSpec[] = []) {}

  /** A step: `run` gets the outputs it needs by name, and the step context. */
  task<const N extends string, R, const D extends keyof O & string = never>(name: Fresh<N, O>, options: TaskOptions<P, E, O, D, R>): DagTasks<P, E, With<O, N, Awaited<R>>, V> {
    const { needs = [], run, rollback, rollbackConfig, retries, timeout } = options;
    return this.add({ kind: "task", name, needs, run, rollback, rollbackConfig, retries, timeout });
  }

  /** Fan-out: one durable step per item of another task's list, `concurrency` at a time; its output is the results in input order. */
  map<const N extends string, const S extends ListTasks<O>, R, const D extends keyof O & string = never>(
    name: Fresh<N, O>,
    options: MapOptions<P, E, O, S, D, R>,
  ): DagTasks<P, E, With<O, N, Awaited<R>[]>, V> {
    const { over, needs = [], concurrency = DEFAULT_MAP_CONCURRENCY, run, rollback, rollbackConfig, retries, timeout } = options;
    return this.add({ kind: "map", name, over, needs, concurrency, run, rollback, rollbackConfig, retries, timeout });
  }

  /** A durable pause, once what it needs has succeeded: a cool-down. Its output is undefined. */
  sleep<const N extends string, const D extends keyof O & string = never>(name: Fresh<N, O>, options: SleepOptions<D>): DagTasks<P, E, With<O, N, undefined>, V> {
    return this.add({ kind: "sleep", name, needs: options.needs ?? [], duration: options.duration });
  }

  /** A gate: waits for an event of `type` (sent before or after it opens); its output is the event's payload. Past `timeout`, the instance fails. */
  waitForEvent<const N extends string, Payload = unknown, const D extends keyof O & string = never, const T extends string = string>(
    name: Fresh<N, O>,
    options: EventOptions<D, Payload, T>,
  ): DagTasks<P, E, With<O, N, Payload>, V | GateEvent<T, Payload>> {
    return this.add({ kind: "event", name, needs: options.needs ?? [], type: options.type, timeout: options.timeout ?? DEFAULT_EVENT_TIMEOUT });
  }

  private add<T, W extends ClientEvent = V>(spec: TaskSpec): DagTasks<P, E, T, W> {
    return new DagTasks<P, E, T, W>([...this.specs, spec]);
  }
}

/** Starts a DAG's task list: `dagTasks<Params, Env>().task(...).task(...)`. */
export function dagTasks<P = unknown, E = unknown>(): DagTasks<P, E, {}> {
  return new DagTasks<P, E, {}>();
}
