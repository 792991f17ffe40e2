import fc from "fast-check";
import { createManualClock, createMemoryHost, dagTasks, defineDag, MemoryStorage, NonRetryableError, type DagTasks, type InstanceStatus, type LogRecord, type WorkflowDefinition } from "../index";

/**
 * Generated DAGs run on the memory host, with every step held open until an
 * op settles it, so that crashes land anywhere: between a step's start and
 * its result, in the middle of a fan-out, during a retry wait or a rollback.
 */

export type Kind = "task" | "map" | "sleep";

export interface GenTask {
  name: string;
  kind: Kind;
  /** Indices of earlier tasks: the generator only looks back, so every DAG is acyclic. */
  needs: number[];
  /** For a map: the index of the task whose list it goes over (one of `needs`). */
  over?: number;
  concurrency: number;
  rollback: boolean;
  retries: number;
  /** Failed attempts before one succeeds (per item for a map); -1 fails with NonRetryableError. */
  failures: number;
  sleepMs: number;
}

export interface GenDag {
  tasks: GenTask[];
  maxConcurrency?: number;
  snapshotEvery: number;
}

export type Op = { op: "settle"; pick: number } | { op: "advance"; ms: number } | { op: "crash" };

export interface Scenario {
  dag: GenDag;
  ops: Op[];
  /** While settling what the ops left, crash every this many rounds (at most 3 times), so crashes also land late: in fan-outs, retry waits, rollbacks. */
  crashEvery?: number;
}

/** A task's failures make the instance fail for good when they outnumber its retries. */
export const failsForGood = (task: GenTask) => task.kind !== "sleep" && (task.failures < 0 || task.failures > task.retries);

// ---------------------------------------------------------------- what every task computes

/** A plain task's list: its index and what it needs, folded; 0 to 2 numbers long, so some maps go over an empty list. */
export function taskOutput(index: number, needs: readonly (readonly number[] | undefined)[]): number[] {
  const seed = needs.reduce<number>((sum, list) => sum + (list ?? []).reduce((a, b) => a + b, 0), index * 31);
  return Array.from({ length: index % 3 }, (_, k) => (seed + k) % 1009);
}

export const itemOutput = (index: number, item: number) => (item * 7 + index) % 1009;

/** A plain, non-durable executor: each task runs once all it needs have, with what they returned. */
export async function reference(dag: GenDag): Promise<Record<string, number[]>> {
  const runs = new Map<number, Promise<number[] | undefined>>();
  const run = (i: number): Promise<number[] | undefined> => {
    const known = runs.get(i);
    if (known) return known;
    const task = dag.tasks[i]!;
    const result = Promise.all(task.needs.map(run)).then(async (needs) => {
      if (task.kind === "sleep") return undefined;
      if (task.kind === "task") return taskOutput(i, needs);
      return (await run(task.over!))!.map((item) => itemOutput(i, item));
    });
    runs.set(i, result);
    return result;
  };
  const outputs: Record<string, number[]> = {};
  for (let i = 0; i < dag.tasks.length; i++) {
    const output = await run(i);
    if (output !== undefined) outputs[dag.tasks[i]!.name] = output;
  }
  return outputs;
}

// ---------------------------------------------------------------- generators

const genTask = (i: number) =>
  fc.record({
    kind: fc.constantFrom<Kind>("task", "task", "task", "map", "map", "sleep"),
    needSeeds: fc.array(fc.nat(), { maxLength: 3 }),
    concurrency: fc.integer({ min: 1, max: 3 }),
    rollback: fc.boolean(),
    retries: fc.integer({ min: 0, max: 2 }),
    sleepMs: fc.constantFrom(500, 1000, 3000),
    i: fc.constant(i),
  });

function shape(raw: { kind: Kind; needSeeds: number[]; concurrency: number; rollback: boolean; retries: number; sleepMs: number; i: number }[], flaky: number[]): GenTask[] {
  const tasks: GenTask[] = [];
  for (const { kind, needSeeds, concurrency, rollback, retries, sleepMs, i } of raw) {
    const needs = i === 0 ? [] : [...new Set(needSeeds.map((seed) => seed % i))].sort((a, b) => a - b);
    const lists = needs.filter((n) => tasks[n]!.kind !== "sleep");
    const mapped = kind === "map" && lists.length > 0;
    tasks.push({
      name: `t${i}`,
      kind: kind === "map" && !mapped ? "task" : kind,
      needs,
      ...(mapped ? { over: lists[0] } : {}),
      concurrency,
      rollback,
      retries,
      failures: Math.min(flaky[i] ?? 0, retries),
      sleepMs,
    });
  }
  return tasks;
}

/** Failures per task: flaky steps fail at most as often as they may retry; with `failing`, one task fails for good. */
function failuresArbitrary(size: number, failing: boolean): fc.Arbitrary<{ flaky: number[]; fatal?: { at: number; how: "refuse" | "exhaust" } }> {
  const flaky = fc.array(fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }), { minLength: size, maxLength: size });
  if (!failing) return flaky.map((plan) => ({ flaky: plan }));
  return fc.record({ flaky, fatal: fc.record({ at: fc.nat(size - 1), how: fc.constantFrom<"refuse" | "exhaust">("refuse", "exhaust") }) });
}

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.nat(7).map((pick) => ({ op: "settle" as const, pick })) },
  { weight: 3, arbitrary: fc.constantFrom(500, 1000, 3000).map((ms) => ({ op: "advance" as const, ms })) },
  { weight: 2, arbitrary: fc.constant({ op: "crash" as const }) },
);

export function scenarioArbitrary(options: { failing: boolean }): fc.Arbitrary<Scenario> {
  // Mostly small DAGs, where shrinking ends anyway; two in five are large, up to 30 tasks.
  const sizes = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 12 }) }, { weight: 2, arbitrary: fc.integer({ min: 13, max: 30 }) });
  return sizes
    .chain((size) =>
      fc.record({
        raw: fc.tuple(...Array.from({ length: size }, (_, i) => genTask(i))),
        failures: failuresArbitrary(size, options.failing),
        maxConcurrency: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
        snapshotEvery: fc.constantFrom(1, 7, 1000),
        ops: fc.array(opArbitrary, { maxLength: 40 }),
        crashEvery: fc.option(fc.integer({ min: 2, max: 12 }), { nil: undefined }),
      }),
    )
    .map(({ raw, failures, maxConcurrency, snapshotEvery, ops, crashEvery }) => {
      const tasks = shape(raw, failures.flaky);
      // A sleep has no step to fail: the failure goes to the first task after it that runs steps, if any.
      const target = failures.fatal && tasks.slice(failures.fatal.at).find((task) => task.kind !== "sleep");
      if (target) target.failures = failures.fatal!.how === "refuse" ? -1 : target.retries + 1;
      return { dag: { tasks, ...(maxConcurrency === undefined ? {} : { maxConcurrency }), snapshotEvery }, ops, ...(crashEvery === undefined ? {} : { crashEvery }) };
    });
}

// ---------------------------------------------------------------- execution

interface PendingAttempt {
  task: GenTask;
  key: string;
  undo: boolean;
  output(): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface Outcome {
  definition: WorkflowDefinition;
  log: LogRecord[];
  status: InstanceStatus;
  /** Bodies that ran although their step's result was already in the log. */
  violations: string[];
  /** What each task's body was handed as `needs`, at its first attempt. */
  received: Record<string, unknown>;
  /** Rollback bodies in the order they first ran, by the key of the step they undo. */
  rolledBack: string[];
}

type Loose = { task(name: string, options: object): Loose; map(name: string, options: object): Loose; sleep(name: string, options: object): Loose };

export const WORKFLOW = "generated";
export const INSTANCE = "subject";

function definitionOf(dag: GenDag, hold: (attempt: Omit<PendingAttempt, "resolve" | "reject">, stepId: string) => Promise<unknown>, received: Record<string, unknown>): WorkflowDefinition {
  let tasks = dagTasks() as unknown as Loose;
  for (const task of dag.tasks) {
    const needs = task.needs.map((n) => dag.tasks[n]!.name);
    const config = { needs, retries: { limit: task.retries, delay: 1000, backoff: "constant" } };
    const index = Number(task.name.slice(1));
    const rollback = task.rollback ? { rollback: (_: unknown, ctx: { stepId: string }) => hold({ task, key: ctx.stepId, undo: true, output: () => null }, ctx.stepId) } : {};
    if (task.kind === "sleep") tasks = tasks.sleep(task.name, { needs, duration: task.sleepMs });
    if (task.kind === "task") {
      tasks = tasks.task(task.name, {
        ...config,
        ...rollback,
        run: (given: Record<string, number[] | undefined>, ctx: { stepId: string }) => {
          received[task.name] ??= given;
          return hold({ task, key: ctx.stepId, undo: false, output: () => taskOutput(index, task.needs.map((n) => given[dag.tasks[n]!.name])) }, ctx.stepId);
        },
      });
    }
    if (task.kind === "map") {
      tasks = tasks.map(task.name, {
        ...config,
        ...rollback,
        over: dag.tasks[task.over!]!.name,
        concurrency: task.concurrency,
        run: (item: number, ctx: { stepId: string }) => hold({ task, key: ctx.stepId, undo: false, output: () => itemOutput(index, item) }, ctx.stepId),
      });
    }
  }
  return defineDag({ name: WORKFLOW, tasks: tasks as unknown as DagTasks, ...(dag.maxConcurrency === undefined ? {} : { maxConcurrency: dag.maxConcurrency }) });
}

const byKey = (a: PendingAttempt, b: PendingAttempt) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Runs the scenario's ops, then settles everything left until the instance ends. */
export async function execute(scenario: Scenario): Promise<Outcome> {
  const { dag } = scenario;
  const storage = new MemoryStorage();
  const clock = createManualClock(1_000_000);
  let pending: PendingAttempt[] = [];
  const violations: string[] = [];
  const received: Record<string, unknown> = {};
  const rolledBack: string[] = [];
  // The log only grows, so results and failures are tallied from the records not seen yet.
  const results = new Set<string>();
  const failures = new Map<string, number>();
  let read = 0;
  const catchUp = () => {
    for (const record of storage.store(WORKFLOW, INSTANCE).read({ after: read })) {
      read = record.seq;
      if (record.type === "step.succeeded" || record.type === "step.failed") results.add(record.data.key);
      if (record.type === "step.attempt_failed") failures.set(record.data.key, (failures.get(record.data.key) ?? 0) + 1);
    }
  };
  const hasResult = (key: string) => (catchUp(), results.has(key));
  const failuresOf = (key: string) => (catchUp(), failures.get(key) ?? 0);

  const hold = (attempt: Omit<PendingAttempt, "resolve" | "reject">, stepId: string) => {
    if (hasResult(stepId)) violations.push(`${stepId} ran again after its result was recorded`);
    const undoes = stepId.replace(/~undo$/, "");
    if (attempt.undo && !rolledBack.includes(undoes)) rolledBack.push(undoes);
    return new Promise((resolve, reject) => pending.push({ ...attempt, resolve, reject }));
  };
  const def = definitionOf(dag, hold, received);
  const host = createMemoryHost({ workflows: [def], clock, storage, snapshotEvery: dag.snapshotEvery });
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

  const settle = (pick: number) => {
    const sorted = [...pending].sort(byKey);
    const chosen = sorted[pick % Math.max(sorted.length, 1)];
    if (!chosen) return;
    pending = pending.filter((p) => p !== chosen);
    const planned = chosen.undo ? 0 : chosen.task.failures;
    if (planned < 0) chosen.reject(new NonRetryableError(`${chosen.task.name} refused`));
    else if (failuresOf(chosen.key) < planned) chosen.reject(new Error(`${chosen.task.name} failed`));
    else chosen.resolve(chosen.output());
  };

  const crash = () => {
    // Attempts cut off by the crash are gone; recovery starts them again.
    pending = [];
    host.crash();
  };

  const instance = await host.workflow(WORKFLOW).create({ id: INSTANCE });
  await flush();
  for (const op of scenario.ops) {
    if (op.op === "settle") settle(op.pick);
    if (op.op === "advance") clock.advance(op.ms);
    if (op.op === "crash") crash();
    await flush();
  }
  for (let round = 1; round < 2000; round++) {
    const { status } = await instance.status();
    if (status === "complete" || status === "errored") break;
    if (scenario.crashEvery && round % scenario.crashEvery === 0 && round / scenario.crashEvery <= 3) crash();
    else if (pending.length) settle(0);
    else clock.advance(1000);
    await flush();
  }
  return { definition: def, log: storage.store(WORKFLOW, INSTANCE).read(), status: await instance.status(), violations, received, rolledBack };
}
