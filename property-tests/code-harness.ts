import fc from "fast-check";
import {
  createManualClock,
  createMemoryHost,
  defineWorkflow,
  DurableMachinesError,
  NonRetryableError,
  WorkflowEntrypoint,
  type InstanceHandle,
  type InstanceStatus,
  type LogRecord,
  type MemoryHost,
  type WorkflowEvent,
  type WorkflowStep,
  type WorkflowStepConfig,
} from "../index";
import { canonical } from "./harness";

/**
 * Code-first (Cloudflare-style) programs and schedules for the property tests. One interpreter class serves every
 * case: its run() follows the program it is created with (params). Step bodies and rollback handlers never settle
 * by themselves: each attempt is held until the schedule settles it, so the schedule decides interleavings.
 * Everything here goes through the memory host's public API, so the properties hold whatever runs behind it.
 */

export type StepName = "a" | "b" | "c";

export interface StepSpec {
  name: StepName;
  limit: number;
  /** Milliseconds, or "fn" for a delay function (a function of the step's key, so a crash cannot change it). */
  delay: number | "fn";
  backoff: "constant" | "linear" | "exponential";
  /** Milliseconds; none means Cloudflare's default of 10 minutes, more than any schedule advances. */
  timeout?: number;
  rollback: boolean;
}

export type Instruction =
  | { kind: "do"; step: StepSpec }
  | { kind: "all"; steps: StepSpec[] }
  | { kind: "try"; step: StepSpec }
  | { kind: "sleep"; name: string; ms: number }
  /** Sleeps until `after` ms past the instance's creation. */
  | { kind: "sleepUntil"; name: string; after: number }
  | { kind: "wait"; name: string; type: EventType; timeout: number; caught: boolean };

export interface Program {
  instructions: Instruction[];
  /** What run() does at its end: return what it collected, or throw. */
  ending: "return" | "throw";
}

export type EventType = "go" | "stop";
export type Outcome = "ok" | "fail" | "fatal";

/** One thing that happens to the instance; a schedule is a list of them. */
export type Op =
  | { op: "settle"; pick: number; outcome: Outcome }
  | { op: "late"; pick: number }
  | { op: "advance"; ms: number }
  | { op: "event"; type: EventType; payload: number; key?: string }
  | { op: "pause" }
  | { op: "resume" }
  | { op: "terminate"; rollback: boolean }
  | { op: "restart" }
  | { op: "restartFrom"; pick: number }
  | { op: "restartFromUnknown" }
  | { op: "crash" };

export interface Scenario {
  program: Program;
  ops: Op[];
  snapshotEvery: number;
}

/** A body (a step attempt or a rollback handler's attempt) held until the schedule settles it. */
interface Held {
  kind: "do" | "rollback";
  key: string;
  attempt: number;
  /** The seq of the record that started this attempt. */
  startedSeq: number;
  /** Its step's timeout, if the program gave one. */
  timeout: number | undefined;
  crashed: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface Outcomes {
  log: LogRecord[];
  status: InstanceStatus;
  /** Property 1: a body entered after its key's result was recorded in the same run of the instance. */
  reentries: string[];
  /** Property 4: a refusal with the wrong code, one that changed the history, or an operation refused or accepted against its status. */
  refusals: string[];
  /** Property 5: a crash with no attempt in flight after which the status read from the log alone differed. */
  folds: string[];
  /** Why a crash of this run may legitimately change its outcome (property 2), if one may. */
  divergentCrash: string | undefined;
}

export const WORKFLOW = "interpreter";
export const INSTANCE = "subject";
export const START = 1_000_000;

const ENDINGS = new Set(["instance.completed", "instance.errored", "instance.terminated"]);
const FINISHED = new Set(["complete", "errored", "terminated"]);

/** What a step returns when it succeeds: a function of its key alone, so every run agrees whatever the attempt. */
export const outputOf = (key: string) => `ok:${key}`;

const keyOf = (name: string, count: number) => `do:${name}-${count}`;

interface Harness {
  enter(kind: Held["kind"], key: string, attempt: number, timeout: number | undefined): Promise<unknown>;
}

function stepConfig(spec: StepSpec): WorkflowStepConfig {
  const delay = spec.delay === "fn" ? ({ ctx }: { ctx: { step: { count: number } } }) => 700 + 100 * ctx.step.count : spec.delay;
  return { retries: { limit: spec.limit, delay, backoff: spec.backoff } as never, ...(spec.timeout === undefined ? {} : { timeout: spec.timeout }) };
}

/** Follows the program it is created with; the harness it reaches through env holds every body it enters. */
class Interpreter extends WorkflowEntrypoint<{ harness: Harness }, Program> {
  async run(event: WorkflowEvent<Program>, step: WorkflowStep) {
    const { harness } = this.env;
    const doStep = (spec: StepSpec) =>
      step.do(
        spec.name,
        stepConfig(spec),
        async (ctx) => harness.enter("do", keyOf(ctx.step.name, ctx.step.count), ctx.attempt, spec.timeout),
        ...(spec.rollback
          ? [{ rollback: async ({ stepName }: { stepName: string }) => void (await harness.enter("rollback", `do:${stepName}`, 0, undefined)), rollbackConfig: { retries: { limit: 1, delay: 300, backoff: "constant" as const } } }]
          : []),
      );
    const results: unknown[] = [];
    for (const instruction of event.payload.instructions) {
      switch (instruction.kind) {
        case "do":
          results.push(await doStep(instruction.step));
          break;
        case "all":
          results.push(await Promise.all(instruction.steps.map(doStep)));
          break;
        case "try":
          try {
            results.push(await doStep(instruction.step));
          } catch (error) {
            results.push(`caught ${(error as Error).name}: ${(error as Error).message}`);
          }
          break;
        case "sleep":
          await step.sleep(instruction.name, instruction.ms);
          results.push(`slept ${instruction.name}`);
          break;
        case "sleepUntil":
          await step.sleepUntil(instruction.name, event.timestamp.getTime() + instruction.after);
          results.push(`woke ${instruction.name}`);
          break;
        case "wait":
          try {
            const received = await step.waitForEvent<number>(instruction.name, { type: instruction.type, timeout: instruction.timeout });
            results.push({ [instruction.type]: received.payload });
          } catch (error) {
            if (!instruction.caught) throw error;
            results.push(`timed out ${instruction.name}`);
          }
          break;
      }
    }
    if (event.payload.ending === "throw") throw new Error(`the program ends by throwing after ${results.length} instructions`);
    return results;
  }
}

/** The step keys of a program, in the order run() first reaches them, with whether each has a rollback handler. */
export function keysOf(program: Program): Map<string, StepSpec> {
  const counts = new Map<string, number>();
  const keys = new Map<string, StepSpec>();
  const add = (spec: StepSpec) => {
    const count = (counts.get(spec.name) ?? 0) + 1;
    counts.set(spec.name, count);
    keys.set(keyOf(spec.name, count), spec);
  };
  for (const instruction of program.instructions) {
    if (instruction.kind === "all") instruction.steps.forEach(add);
    else if (instruction.kind === "do" || instruction.kind === "try") add(instruction.step);
  }
  return keys;
}

/**
 * The records of the current run of the instance after each of `log`'s records: a restart drops everything before
 * it, a restart from a step keeps only what came before its cut (the engine folds that prefix as it was).
 */
export function currentRun(log: readonly LogRecord[]): LogRecord[] {
  let run: LogRecord[] = [];
  for (const record of log) {
    if (record.type === "instance.restarted") run = record.data.cut === undefined ? [] : run.filter((r) => r.seq < record.data.cut!);
    run.push(record);
  }
  return run;
}

/**
 * Whether a body's attempt timed out before the body began: the manual clock fires every timer of one advance before
 * any promise callback runs, and a body begins in one, so one advance can time out an attempt, start the next and
 * record the step's failure before the first body begins. That is the clock's doing, not a step running again.
 */
function timedOutBeforeItBegan(run: readonly LogRecord[], key: string, attempt: number): boolean {
  return run.some((r) => r.type === "step.attempt_failed" && r.data.key === key && r.data.attempt === attempt && r.data.error.name === "WorkflowTimeoutError");
}

/**
 * Whether a body the harness holds can still matter: not if it crashed, or if the log settled or stopped it. A step
 * attempt stops when a rollback starts, and one started during a rollback never counts.
 */
function alive(held: Held, log: readonly LogRecord[]): boolean {
  if (held.crashed) return false;
  if (held.kind === "do" && currentRun(log).some((r) => r.type === "rollback.started")) return false;
  for (const record of log.slice(held.startedSeq)) {
    if (ENDINGS.has(record.type) || record.type === "instance.restarted") return false;
    const data = record.data as { key?: string; attempt?: number };
    if (held.kind === "do") {
      if ((record.type === "step.attempt_failed" || record.type === "step.succeeded" || record.type === "step.failed") && data.key === held.key && data.attempt === held.attempt) return false;
    } else {
      if (record.type === "rollback.step.attempt_failed" && data.key === held.key && data.attempt === held.attempt) return false;
      if ((record.type === "rollback.step.succeeded" || record.type === "rollback.step.failed") && data.key === held.key) return false;
    }
  }
  return true;
}

/**
 * Whether a pause holds the instance: the current run was paused and not resumed since, and has not ended. A pause
 * during a rollback holds it too, though status() says rollingBack then.
 */
function pauseInEffect(log: readonly LogRecord[]): boolean {
  const last = currentRun(log).findLast((r) => r.type === "instance.paused" || r.type === "instance.resumed" || ENDINGS.has(r.type));
  return last?.type === "instance.paused";
}

const order = (a: Held, b: Held) => (a.kind !== b.kind ? (a.kind < b.kind ? -1 : 1) : a.key !== b.key ? (a.key < b.key ? -1 : 1) : a.attempt - b.attempt);

/** Lets every promise chain the last operation started run out; the engine's timers are on the manual clock. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs a scenario on a fresh memory host with a manual clock. Bodies settle only when an op says so. */
export async function execute(scenario: Scenario): Promise<Outcomes> {
  const clock = createManualClock(START);
  let held: Held[] = [];
  const reentries: string[] = [];
  const refusals: string[] = [];
  const folds: string[] = [];
  let divergentCrash: string | undefined;
  let host: MemoryHost;
  const log = () => host.storage.store(WORKFLOW, INSTANCE).read();

  const harness: Harness = {
    enter(kind, key, attempt, timeout) {
      const records = log();
      const run = currentRun(records);
      const results = kind === "do" ? ["step.succeeded", "step.failed"] : ["rollback.step.succeeded", "rollback.step.failed"];
      const result = run.find((r) => results.includes(r.type) && (r.data as { key: string }).key === key);
      const late = kind === "do" && timedOutBeforeItBegan(run, key, attempt);
      const startType = kind === "do" ? "step.started" : "rollback.step.started";
      // A handler is told its forward step's attempt, not its own: its own is the saga's latest start of it. A step's
      // attempt is found by number: a later one may have started before this body began (timedOutBeforeItBegan).
      const start = run.findLast(
        (r): r is LogRecord<"step.started" | "rollback.step.started"> => r.type === startType && r.data.key === key && (kind === "rollback" || r.data.attempt === attempt),
      );
      if (result && !late) reentries.push(`the ${kind} body of ${key} was entered (attempt ${attempt}) at seq ${records.length} after its ${result.type} at seq ${result.seq}`);
      if (!start) reentries.push(`the ${kind} body of ${key} was entered (attempt ${attempt}) at seq ${records.length} with no ${startType} for it in the current run`);
      return new Promise((resolve, reject) => {
        held.push({ kind, key, attempt: start?.data.attempt ?? attempt, startedSeq: start?.seq ?? records.length, timeout, crashed: false, resolve, reject });
      });
    },
  };

  host = createMemoryHost({ workflows: [defineWorkflow({ name: WORKFLOW, entrypoint: Interpreter })], clock, snapshotEvery: scenario.snapshotEvery, env: { harness } });
  const instance = await host.workflow(WORKFLOW).create({ id: INSTANCE, params: scenario.program });
  await flush();

  const live = () => held.filter((h) => alive(h, log())).sort(order);
  const statusNow = async () => (await instance.status()).status;
  /** Runs an operation the instance must refuse with `code` (or accept, when `code` is undefined), and checks that a refusal left the history as it was. */
  const attempt = async (what: string, code: string | undefined, action: () => Promise<unknown>) => {
    const before = JSON.stringify(await instance.history());
    let refused: unknown;
    await action().catch((error: unknown) => (refused = error));
    if (refused !== undefined && !(refused instanceof DurableMachinesError)) throw refused;
    const got = (refused as DurableMachinesError | undefined)?.code;
    if (got !== code) refusals.push(`${what}: expected ${code === undefined ? "it accepted" : `refused with ${code}`}, got ${got === undefined ? "accepted" : `refused with ${got}`}`);
    if (got !== undefined && JSON.stringify(await instance.history()) !== before) refusals.push(`${what}: refused with ${got}, yet the history changed`);
  };

  for (const op of scenario.ops) {
    const status = await statusNow();
    const finished = FINISHED.has(status);
    switch (op.op) {
      case "settle": {
        const candidates = live();
        const chosen = candidates[op.pick % Math.max(candidates.length, 1)];
        if (!chosen) break;
        held = held.filter((h) => h !== chosen);
        if (op.outcome === "ok") chosen.resolve(chosen.kind === "do" ? outputOf(chosen.key) : undefined);
        else if (op.outcome === "fail") chosen.reject(new Error(`${chosen.key} failed`));
        else chosen.reject(new NonRetryableError(`${chosen.key} refused`));
        break;
      }
      case "late": {
        const current = new Set(live());
        const stale = held.filter((h) => !current.has(h)).sort(order);
        const chosen = stale[op.pick % Math.max(stale.length, 1)];
        if (!chosen) break;
        held = held.filter((h) => h !== chosen);
        chosen.resolve(chosen.kind === "do" ? outputOf(chosen.key) : undefined);
        break;
      }
      case "advance":
        clock.advance(op.ms);
        break;
      case "event":
        await attempt(`sendEvent ${op.type} while ${status}`, finished ? "instance.finished" : undefined, () =>
          instance.sendEvent({ type: op.type, payload: op.payload, ...(op.key ? { idempotencyKey: op.key } : {}) }),
        );
        break;
      case "pause":
        await instance.pause();
        break;
      case "resume":
        await attempt(`resume while ${status}`, pauseInEffect(log()) ? undefined : "instance.cannot_resume", () => instance.resume());
        break;
      case "terminate":
        await attempt(`terminate${op.rollback ? " with rollback" : ""} while ${status}`, finished ? "instance.cannot_terminate" : undefined, () => instance.terminate({ rollback: op.rollback }));
        break;
      case "restart":
        await instance.restart();
        break;
      case "restartFrom": {
        const keys = [...new Set(currentRun(log()).flatMap((r) => (r.type === "step.started" || r.type === "wait.started" ? [r.data.key] : r.type === "timer.started" ? [r.data.id] : [])))].sort();
        const from = keys[op.pick % Math.max(keys.length, 1)];
        if (from !== undefined) await attempt(`restart from ${from}, which the current run started`, undefined, () => instance.restart({ from }));
        break;
      }
      case "restartFromUnknown":
        await attempt("restart from a step the instance never ran", "instance.cannot_restart", () => instance.restart({ from: "do:never-1" }));
        break;
      case "crash": {
        const inFlight = live();
        // A pause also holds a saga: a handler a crash cut off waits for the resume (status says rollingBack meanwhile).
        if (inFlight.length && (status === "paused" || status === "waitingForPause" || pauseInEffect(log()))) divergentCrash ??= `a crash while paused with ${inFlight.map((h) => h.key).join(", ")} in flight`;
        const timed = inFlight.find((h) => h.timeout !== undefined);
        if (timed) divergentCrash ??= `a crash while ${timed.key}, whose timeout a crash re-arms, was in flight`;
        const before = canonical(await instance.status());
        for (const h of held) h.crashed = true;
        host.crash();
        // Read before anything runs: what the log alone gives.
        const after = canonical(await instance.status());
        if (!inFlight.length && after !== before) folds.push(`at seq ${log().length}, with nothing in flight: ${before} before the crash, ${after} from the log alone`);
        // A terminate's saga resumes after a reload in a macrotask of its own.
        if ((await statusNow()) === "rollingBack") await new Promise<void>((resolve) => setTimeout(resolve, 0));
        break;
      }
    }
    await flush();
  }
  return { log: log(), status: await instance.status(), reentries, refusals, folds, divergentCrash };
}

const stepSpec: fc.Arbitrary<StepSpec> = fc.record(
  {
    name: fc.constantFrom<StepName>("a", "b", "c"),
    limit: fc.integer({ min: 0, max: 3 }),
    delay: fc.constantFrom<StepSpec["delay"]>(100, 1000, "fn"),
    backoff: fc.constantFrom<StepSpec["backoff"]>("constant", "linear", "exponential"),
    timeout: fc.constantFrom(1500, 4000),
    rollback: fc.boolean(),
  },
  { requiredKeys: ["name", "limit", "delay", "backoff", "rollback"] },
);

const instruction: fc.Arbitrary<Instruction> = fc.oneof(
  { weight: 5, arbitrary: stepSpec.map((step) => ({ kind: "do" as const, step })) },
  { weight: 2, arbitrary: fc.array(stepSpec, { minLength: 2, maxLength: 3 }).map((steps) => ({ kind: "all" as const, steps })) },
  { weight: 2, arbitrary: stepSpec.map((step) => ({ kind: "try" as const, step })) },
  { weight: 2, arbitrary: fc.record({ name: fc.constantFrom("nap", "rest"), ms: fc.constantFrom(500, 2000) }).map((s) => ({ kind: "sleep" as const, ...s })) },
  { weight: 1, arbitrary: fc.record({ name: fc.constantFrom("nap", "alarm"), after: fc.constantFrom(1000, 8000) }).map((s) => ({ kind: "sleepUntil" as const, ...s })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ name: fc.constantFrom("w", "v"), type: fc.constantFrom<EventType>("go", "stop"), timeout: fc.constantFrom(1000, 6000), caught: fc.boolean() })
      .map((w) => ({ kind: "wait" as const, ...w })),
  },
);

export const programArbitrary: fc.Arbitrary<Program> = fc.record({
  instructions: fc.array(instruction, { minLength: 1, maxLength: 6, size: "max" }),
  ending: fc.constantFrom<Program["ending"]>("return", "return", "return", "throw"),
});

function opArbitrary(withCrashes: boolean): fc.Arbitrary<Op> {
  const ops: fc.WeightedArbitrary<Op>[] = [
    { weight: 24, arbitrary: fc.record({ pick: fc.nat(5), outcome: fc.constantFrom<Outcome>("ok", "ok", "ok", "ok", "ok", "ok", "fail", "fail", "fatal") }).map((s) => ({ op: "settle" as const, ...s })) },
    { weight: 2, arbitrary: fc.nat(5).map((pick) => ({ op: "late" as const, pick })) },
    { weight: 12, arbitrary: fc.constantFrom(300, 1000, 2000, 5000).map((ms) => ({ op: "advance" as const, ms })) },
    {
      weight: 6,
      arbitrary: fc
        .record({ type: fc.constantFrom<EventType>("go", "stop"), payload: fc.nat(99), key: fc.option(fc.constantFrom("k1", "k2"), { nil: undefined }) })
        .map(({ key, ...event }) => ({ op: "event" as const, ...event, ...(key ? { key } : {}) })),
    },
    { weight: 2, arbitrary: fc.constant({ op: "pause" as const }) },
    { weight: 3, arbitrary: fc.constant({ op: "resume" as const }) },
    { weight: 1, arbitrary: fc.boolean().map((rollback) => ({ op: "terminate" as const, rollback })) },
    { weight: 1, arbitrary: fc.constant({ op: "restart" as const }) },
    { weight: 1, arbitrary: fc.nat(7).map((pick) => ({ op: "restartFrom" as const, pick })) },
    { weight: 1, arbitrary: fc.constant({ op: "restartFromUnknown" as const }) },
  ];
  if (withCrashes) ops.push({ weight: 5, arbitrary: fc.constant({ op: "crash" as const }) });
  return fc.oneof(...ops);
}

export function scenarioArbitrary(options: { withCrashes: boolean; maxOps?: number }): fc.Arbitrary<Scenario> {
  return fc.record({
    program: programArbitrary,
    ops: fc.array(opArbitrary(options.withCrashes), { maxLength: options.maxOps ?? 50, size: "max" }),
    snapshotEvery: fc.constantFrom(1, 3, 1000),
  });
}

/** A scenario as lines a person can read in a failure report. */
export function describeScenario(scenario: Scenario): string {
  const spec = (s: StepSpec) =>
    `${s.name}(retries ${s.limit}, delay ${s.delay} ${s.backoff}${s.timeout === undefined ? "" : `, timeout ${s.timeout}`}${s.rollback ? ", rollback" : ""})`;
  const lines = scenario.program.instructions.map((i) => {
    switch (i.kind) {
      case "do":
        return `step.do ${spec(i.step)}`;
      case "all":
        return `Promise.all [${i.steps.map(spec).join(", ")}]`;
      case "try":
        return `try step.do ${spec(i.step)} catch`;
      case "sleep":
        return `step.sleep ${i.name} ${i.ms} ms`;
      case "sleepUntil":
        return `step.sleepUntil ${i.name} created + ${i.after} ms`;
      case "wait":
        return `${i.caught ? "try " : ""}step.waitForEvent ${i.name} { type: ${i.type}, timeout: ${i.timeout} }${i.caught ? " catch" : ""}`;
    }
  });
  return [
    `program (snapshot every ${scenario.snapshotEvery}):`,
    ...lines.map((l) => `  ${l}`),
    `  ${scenario.program.ending === "return" ? "return the results" : "throw"}`,
    `ops: ${scenario.ops.map((o) => JSON.stringify(o)).join(" ")}`,
  ].join("\n");
}
