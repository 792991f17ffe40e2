import fc from "fast-check";
import { createManualClock, createMemoryHost, MemoryStorage, NonRetryableError, InstanceFinishedError, DurableMachinesError } from "../index";
import type { StepArgs } from "../core/definition";
import type { LogRecord } from "../core/records";
import type { PersistedState } from "../core/snapshot";
import type { InstanceStatus } from "../core/status";
import { definitions, EVENT_TYPES, outputOf, useControl, type MachineName } from "./machines";

/** One thing that happens to an instance; a schedule is a list of them. */
export type Op =
  | { op: "settle"; pick: number }
  | { op: "late"; pick: number }
  | { op: "advance"; ms: number }
  | { op: "event"; type: string; key?: string }
  | { op: "pause" }
  | { op: "resume" }
  | { op: "restart" }
  | { op: "restartFrom"; pick: number }
  | { op: "crash" }
  | { op: "dropSnapshots" };

/** How many times each step fails before it succeeds; -1 fails it with NonRetryableError. */
export type FailurePlan = Record<string, number>;

export interface Scenario {
  machine: MachineName;
  plan: FailurePlan;
  ops: Op[];
  snapshotEvery: number;
}

export interface Outcome {
  log: LogRecord[];
  status: InstanceStatus;
  /** Every snapshot the live host wrote (since the last dropSnapshots). */
  snapshots: PersistedState[];
  /** Steps whose body ran after their result was already in the log. */
  violations: string[];
}

interface PendingAttempt {
  src: string;
  key: string;
  attempt: number;
  input: unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

const STEPS: Record<MachineName, string[]> = {
  sequential: ["a", "b", "c", "undoA", "undoB"],
  loop: ["inc"],
  parallel: ["l1", "l2", "r1"],
  race: ["prep", "ship"],
  stale: ["slow"],
};

const byKey = (a: PendingAttempt, b: PendingAttempt) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.attempt - b.attempt);

export const INSTANCE = "subject";

/** Runs a scenario on a fresh memory host with a manual clock. Steps settle only when an op says so. */
export async function execute(scenario: Scenario): Promise<Outcome> {
  const def = definitions[scenario.machine];
  const storage = new MemoryStorage();
  const clock = createManualClock(1_000_000);
  let pending: PendingAttempt[] = [];
  const stale: PendingAttempt[] = [];
  const violations: string[] = [];
  const log = () => storage.store(def.name, INSTANCE).read();
  const hasResult = (key: string) => log().some((r) => (r.type === "step.succeeded" || r.type === "step.failed") && r.data.key === key);
  const failuresOf = (key: string) => log().filter((r) => r.type === "step.attempt_failed" && r.data.key === key).length;

  useControl({
    run(src: string, args: StepArgs) {
      if (hasResult(args.stepId)) violations.push(`${args.stepId} ran again (attempt ${args.attempt}) after its result was recorded`);
      return new Promise((resolve, reject) => {
        const attempt: PendingAttempt = { src, key: args.stepId, attempt: args.attempt, input: args.input, resolve, reject };
        pending.push(attempt);
        args.signal.addEventListener("abort", () => {
          pending = pending.filter((p) => p !== attempt);
          stale.push(attempt);
        });
      });
    },
  });

  const host = createMemoryHost({ workflows: [def], clock, storage, snapshotEvery: scenario.snapshotEvery });
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  const instance = await host.workflow(def.name).create({ id: INSTANCE, params: {} });
  await flush();

  for (const op of scenario.ops) {
    switch (op.op) {
      case "settle": {
        const sorted = [...pending].sort(byKey);
        const chosen = sorted[op.pick % Math.max(sorted.length, 1)];
        if (!chosen) break;
        pending = pending.filter((p) => p !== chosen);
        const planned = scenario.plan[chosen.src] ?? 0;
        if (planned < 0) chosen.reject(new NonRetryableError(`${chosen.src} refused`));
        else if (failuresOf(chosen.key) < planned) chosen.reject(new Error(`${chosen.src} failed`));
        else chosen.resolve(outputOf(chosen.src, chosen.input));
        break;
      }
      case "late": {
        const chosen = stale[op.pick % Math.max(stale.length, 1)];
        chosen?.resolve(outputOf(chosen.src, chosen.input));
        break;
      }
      case "advance":
        clock.advance(op.ms);
        break;
      case "event":
        await instance.sendEvent({ type: op.type, payload: op.key ?? null, ...(op.key ? { idempotencyKey: op.key } : {}) }).catch(expectRefusal(InstanceFinishedError));
        break;
      case "pause":
        await instance.pause();
        break;
      case "resume":
        await instance.resume().catch(expectRefusal(DurableMachinesError));
        break;
      case "restart":
        await instance.restart();
        break;
      case "restartFrom": {
        const keys = [...new Set(log().flatMap((r) => (r.type === "step.started" ? [r.data.key] : [])))].sort();
        const from = keys[op.pick % Math.max(keys.length, 1)];
        if (from !== undefined) await instance.restart({ from });
        break;
      }
      case "crash":
        host.crash();
        break;
      case "dropSnapshots":
        storage.dropSnapshots();
        break;
    }
    await flush();
  }
  return { log: log(), status: await instance.status(), snapshots: storage.snapshots(def.name, INSTANCE) as PersistedState[], violations };
}

function expectRefusal(kind: new (...args: never[]) => Error) {
  return (error: unknown) => {
    if (!(error instanceof kind)) throw error;
  };
}

function opArbitrary(machine: MachineName, withCrashes: boolean): fc.Arbitrary<Op> {
  const events = EVENT_TYPES[machine];
  const ops: fc.WeightedArbitrary<Op>[] = [
    { weight: 20, arbitrary: fc.nat(7).map((pick) => ({ op: "settle" as const, pick })) },
    { weight: 2, arbitrary: fc.nat(7).map((pick) => ({ op: "late" as const, pick })) },
    { weight: 12, arbitrary: fc.constantFrom(300, 500, 1000, 2000, 5000).map((ms) => ({ op: "advance" as const, ms })) },
    {
      weight: 8,
      arbitrary: fc
        .record({ type: fc.constantFrom(...events), key: fc.option(fc.constantFrom("k1", "k2"), { nil: undefined }) })
        .map(({ type, key }) => ({ op: "event" as const, type, ...(key ? { key } : {}) })),
    },
    { weight: 1, arbitrary: fc.constant({ op: "pause" as const }) },
    { weight: 3, arbitrary: fc.constant({ op: "resume" as const }) },
    { weight: 1, arbitrary: fc.constant({ op: "restart" as const }) },
    { weight: 1, arbitrary: fc.nat(7).map((pick) => ({ op: "restartFrom" as const, pick })) },
  ];
  if (withCrashes) ops.push({ weight: 5, arbitrary: fc.constant({ op: "crash" as const }) }, { weight: 1, arbitrary: fc.constant({ op: "dropSnapshots" as const }) });
  return fc.oneof(...ops);
}

/** Mostly steps that succeed at once, so runs get far; sometimes flaky, sometimes refusing for good. */
const failuresArbitrary = fc.oneof(
  { weight: 5, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 3 }) },
  { weight: 1, arbitrary: fc.constant(-1) },
);

/** c, the last sequential step, mostly fails for good, so runs reach the saga that undoes a and b. */
const lastStepFails = fc.constantFrom(1, 1, -1, 0);

export function scenarioArbitrary(options: { withCrashes: boolean; maxOps?: number }): fc.Arbitrary<Scenario> {
  return fc.constantFrom(...(Object.keys(definitions) as MachineName[])).chain((machine) =>
    fc.record({
      machine: fc.constant(machine),
      plan: fc.record(Object.fromEntries(STEPS[machine].map((src) => [src, machine === "sequential" && src === "c" ? lastStepFails : failuresArbitrary]))) as fc.Arbitrary<FailurePlan>,
      ops: fc.array(opArbitrary(machine, options.withCrashes), { maxLength: options.maxOps ?? 60 }),
      snapshotEvery: fc.constantFrom(1, 2, 5, 1000),
    }),
  );
}

/** A log as lines a person can read in a failure report. */
export function formatLog(log: readonly LogRecord[]): string {
  return log.map((r) => `  ${String(r.seq).padStart(3)} @${r.at - 1_000_000} ${r.type} ${JSON.stringify(r.data)}`).join("\n");
}

/** JSON with sorted keys, so equal states compare equal whatever order their keys were written in. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}
