import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyRecord, fold } from "../core/fold";
import { persist, restore } from "../core/snapshot";
import type { LogRecord } from "../index";
import { execute, failsForGood, reference, scenarioArbitrary, type GenDag, type GenTask, type Outcome, type Scenario } from "./dag-harness";
import { canonical, formatLog } from "./harness";

const SEED = 20261124;
const RUNS = Number(process.env.PROPERTY_RUNS ?? 1000);
const settings = { seed: SEED, numRuns: RUNS, endOnFailure: false };

/** The task a step key belongs to: `t3#1` (a task), `t3.slot0#2` (an item of a map), either with `~undo` for its rollback. */
const taskOf = (key: string) => key.split(/[.#]/)[0]!;
const isUndo = (key: string) => key.endsWith("~undo");

function describeDag(dag: GenDag): string {
  const line = (t: GenTask) =>
    `  ${t.name} ${t.kind}${t.over !== undefined ? ` over t${t.over}` : ""} needs [${t.needs.map((n) => `t${n}`).join(", ")}]` +
    `${t.kind === "map" ? ` concurrency ${t.concurrency}` : ""}${t.kind === "sleep" ? ` ${t.sleepMs}ms` : ` retries ${t.retries} failures ${t.failures}`}${t.rollback ? " rollback" : ""}`;
  return `maxConcurrency ${dag.maxConcurrency ?? "none"}, snapshot every ${dag.snapshotEvery}\n${dag.tasks.map(line).join("\n")}`;
}

function explain(scenario: Scenario, outcome: Outcome, problem: string): string {
  return `${problem}\nDAG:\n${describeDag(scenario.dag)}\nops: ${JSON.stringify(scenario.ops)}, then ${scenario.crashEvery ? `a crash every ${scenario.crashEvery} rounds (3 at most)` : "no crash"} while settling the rest\nlog:\n${formatLog(outcome.log)}`;
}

/** Where each task finished in the log: its step's success, the last of its items, or its timer. */
function completions(dag: GenDag, log: readonly LogRecord[], outputs: Record<string, number[]>): Map<string, number> {
  const done = new Map<string, number>();
  const itemsDone = new Map<string, number>();
  for (const task of dag.tasks) if (task.kind === "map" && outputs[task.name]?.length === 0) itemsDone.set(task.name, 0);
  for (const record of log) {
    if (record.type === "step.succeeded" && !isUndo(record.data.key)) {
      const name = taskOf(record.data.key);
      const task = dag.tasks.find((t) => t.name === name)!;
      if (task.kind === "task") done.set(name, record.seq);
      else {
        const count = (itemsDone.get(name) ?? 0) + 1;
        itemsDone.set(name, count);
        if (count === outputs[name]!.length) done.set(name, record.seq);
      }
    }
    if (record.type === "timer.fired") {
      const name = /\.(t\d+)\.running#/.exec(record.data.id)?.[1];
      if (name) done.set(name, record.seq);
    }
  }
  // A map over an empty list is done as soon as it is admitted: no record of its own, so it counts from where its dependencies were.
  for (const task of dag.tasks) {
    if (task.kind === "map" && outputs[task.name]?.length === 0 && task.needs.every((n) => done.has(`t${n}`))) {
      done.set(task.name, Math.max(0, ...task.needs.map((n) => done.get(`t${n}`)!)));
    }
  }
  return done;
}

/** First attempt of each forward step, in log order. */
const firstStarts = (log: readonly LogRecord[]) => log.filter((r): r is LogRecord<"step.started"> => r.type === "step.started" && r.data.attempt === 1 && !isUndo(r.data.key));

/** Checks what holds for every run, failing or not: order, no re-runs, bounded concurrency, the right inputs. */
async function checkCommon(scenario: Scenario, outcome: Outcome): Promise<Record<string, number[]>> {
  const { dag } = scenario;
  const { log } = outcome;
  const expected = await reference(dag);
  expect(outcome.violations, explain(scenario, outcome, "a step ran again after its result was recorded")).toEqual([]);
  const done = completions(dag, log, expected);
  for (const start of firstStarts(log)) {
    const task = dag.tasks.find((t) => t.name === taskOf(start.data.key))!;
    for (const need of task.needs) {
      const finished = done.get(`t${need}`);
      expect(finished !== undefined && finished < start.seq, explain(scenario, outcome, `${start.data.key} started at seq ${start.seq} before t${need}, which it needs, had succeeded`)).toBe(true);
    }
  }
  for (const [name, given] of Object.entries(outcome.received)) {
    const task = dag.tasks.find((t) => t.name === name)!;
    const wanted = Object.fromEntries(task.needs.map((n) => [`t${n}`, expected[`t${n}`]]));
    expect(JSON.stringify(given), explain(scenario, outcome, `${name} was handed other outputs than it needs`)).toBe(JSON.stringify(wanted));
  }
  if (dag.maxConcurrency !== undefined) {
    const running = new Set<string>();
    for (const record of log) {
      if (record.type === "step.started" && record.data.attempt === 1 && !isUndo(record.data.key)) running.add(taskOf(record.data.key));
      if (record.type === "step.succeeded" || record.type === "step.failed") {
        const name = taskOf(record.data.key);
        if (done.get(name) === record.seq || record.type === "step.failed") running.delete(name);
      }
      expect(running.size, explain(scenario, outcome, `more than ${dag.maxConcurrency} steps ran at once at seq ${record.seq}`)).toBeLessThanOrEqual(dag.maxConcurrency);
    }
  }
  return expected;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const inner of Object.values(value)) deepFreeze(inner);
}

/**
 * The compiled machine keeps the fold pure, in a run without failures: no
 * record changes the machine context it is folded onto (each is frozen
 * first, so a change in place throws), and at a record picked at random, the
 * state after a snapshot's JSON round trip folds it to the same state.
 */
function checkReplay(scenario: Scenario, outcome: Outcome, cutSeed: number): void {
  const { definition: def, log } = outcome;
  const cut = 1 + (cutSeed % (log.length - 1));
  const context = { stateBefore: (seq: number) => fold(def, log.filter((r) => r.seq < seq)) };
  let state = applyRecord(def, undefined, log[0]!, context).state;
  for (const record of log.slice(1)) {
    deepFreeze(state.machine.context);
    // A change in place throws inside the transition, which errors the instance: a run without failures must not.
    const next = applyRecord(def, state, record, context).state;
    const error = next.book.ended?.status === "errored" ? next.book.ended.error : undefined;
    expect(error, explain(scenario, outcome, `folding record ${record.seq} onto a frozen machine context failed`)).toBeUndefined();
    if (record.seq === cut + 1) {
      const again = applyRecord(def, restore(def, JSON.parse(JSON.stringify(persist(def, state)))), record, context).state;
      expect(canonical(persist(def, again)), explain(scenario, outcome, `record ${record.seq} folds differently onto a restored snapshot`)).toBe(canonical(persist(def, next)));
    }
    state = next;
  }
}

describe("DAG properties (fast-check, seeded)", () => {
  it("without failures, across crashes: every task starts only after all it needs have succeeded, no recorded task runs again, folding stays pure across snapshots, and the output equals a plain executor's", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary({ failing: false }), fc.nat(), async (scenario, cutSeed) => {
        const outcome = await execute(scenario);
        const expected = await checkCommon(scenario, outcome);
        checkReplay(scenario, outcome, cutSeed);
        expect(outcome.status.status, explain(scenario, outcome, "the instance did not complete")).toBe("complete");
        expect(outcome.status.output, explain(scenario, outcome, "the output differs from the plain executor's")).toEqual(expected);
      }),
      settings,
    );
  });

  it("with a failure, across crashes: nothing starts after it, and exactly the started tasks with a rollback are rolled back, newest first, each once", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary({ failing: true }), async (scenario) => {
        const outcome = await execute(scenario);
        const expected = await checkCommon(scenario, outcome);
        const { log } = outcome;
        const { dag } = scenario;
        const fatal = dag.tasks.find(failsForGood);
        // A map over an empty list runs no step, so its planned failure never happens (nor does one in a DAG of sleeps).
        if (!fatal || (fatal.kind === "map" && expected[fatal.name]!.length === 0)) {
          expect(outcome.status, explain(scenario, outcome, "the instance did not complete with the plain executor's output")).toMatchObject({ status: "complete", output: expected });
          return;
        }
        expect(outcome.status.status, explain(scenario, outcome, "the instance did not end errored")).toBe("errored");
        const failure = log.find((r) => r.type === "step.failed" && !isUndo(r.data.key))!;
        expect(failure, explain(scenario, outcome, "no step failed for good")).toBeDefined();
        const lateStarts = firstStarts(log).filter((r) => r.seq > failure.seq);
        expect(lateStarts.map((r) => r.data.key), explain(scenario, outcome, "a step started after the instance failed")).toEqual([]);
        const withRollback = new Set(dag.tasks.filter((t) => t.rollback).map((t) => t.name));
        const owed = firstStarts(log)
          .map((r) => r.data.key)
          .filter((key) => withRollback.has(taskOf(key)))
          .reverse();
        const undone = log.flatMap((r) => (r.type === "step.started" && r.data.attempt === 1 && isUndo(r.data.key) ? [r.data.key.replace(/~undo$/, "")] : []));
        expect(undone, explain(scenario, outcome, "the rollbacks are not the started tasks with one, newest first")).toEqual(owed);
        const succeeded = log.flatMap((r) => (r.type === "step.succeeded" && isUndo(r.data.key) ? [r.data.key.replace(/~undo$/, "")] : []));
        expect(succeeded, explain(scenario, outcome, "a rollback did not succeed exactly once")).toEqual(owed);
        expect(outcome.rolledBack, explain(scenario, outcome, "the rollback bodies did not run for the started tasks with one, newest first")).toEqual(owed);
      }),
      settings,
    );
  });
});
