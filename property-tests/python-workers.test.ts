import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, defineWorkflow, type LogRecord } from "../index";
import type { WireAnswer, WireCall, WireTask } from "../runtime/python-workers";
import type { Scenario, StepName } from "./code-harness";
import { malformations } from "./code-log-shape";
import { formatLog } from "./harness";

/**
 * The engine's side of the Python worker protocol under a worker that misbehaves as real ones do: generated
 * schedules of claims, results (late ones included), failures, heartbeats, releases, lapsed leases, pauses and
 * resumes, and crashes of the engine, for a sequential run() of steps with retries. The worker here is a minimal
 * one written for the test: it replays run() from the top on each claim, as the Python SDK does, and (in half the
 * runs) once the engine says the pass is live it runs each step's body as it calls it and sends the outcome with the
 * call, as the SDK does. After the schedule, a well-behaved worker drives the instance to its end.
 */
const SEED = process.env.PROPERTY_SEED === "random" ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.PROPERTY_SEED ?? 20261208);
const RUNS = Number(process.env.PROPERTY_RUNS ?? 1000);
console.log(`Python worker protocol properties: seed ${SEED}, ${RUNS} runs (PROPERTY_SEED=${SEED} to replay)`);

const LEASE_MS = 10_000;
const NAMES: StepName[] = ["a", "b", "c"];

interface Step {
  name: StepName;
  limit: number;
  /** What the body gives when the worker runs it with its call. */
  eagerOk: boolean;
}

type Op =
  | { op: "claim" }
  | { op: "finish"; pick: number; ok: boolean }
  | { op: "late"; pick: number }
  | { op: "heartbeat" }
  | { op: "release" }
  | { op: "advance"; ms: number }
  | { op: "lapse" }
  | { op: "pause" }
  | { op: "resume" }
  | { op: "crash" };

const stepArb = fc.record({ name: fc.constantFrom(...NAMES), limit: fc.integer({ min: 0, max: 2 }), eagerOk: fc.boolean() });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ op: "claim" as const }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant("finish" as const), pick: fc.nat(5), ok: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("late" as const), pick: fc.nat(5) }) },
  { weight: 2, arbitrary: fc.constant({ op: "heartbeat" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "release" as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.constantFrom(500, 1000, 3000) }) },
  { weight: 1, arbitrary: fc.constant({ op: "lapse" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "pause" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "resume" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "crash" as const }) },
);

/** What a worker holds for its task: the attempts it was told to run, and whether its replay is blocked. */
interface Held {
  task: WireTask;
  /** The step run() calls next in this pass, and the values it has so far. */
  next: number;
  values: unknown[];
  toRun: { key: string; attempt: number }[];
  /** Attempts it finished, kept to send again late. */
  done: { key: string; attempt: number }[];
  /** The last answer said the pass is live. */
  live: boolean;
  /** Step calls of each name in this pass: the count a body run with its call is given. */
  counts: Map<string, number>;
}

async function play(steps: Step[], ops: Op[], fused: boolean) {
  const clock = createManualClock(1_000_000);
  const host = createMemoryHost({ workflows: [defineWorkflow({ name: "py", python: { leaseMs: LEASE_MS } })], clock });
  const workers = host.python("py");
  const instance = await host.workflow("py").create({ id: "subject" });
  const log = () => host.storage.store("py", "subject").read();
  const violations: string[] = [];
  let held: Held | undefined;

  const settledKeys = () => {
    // The current run: after the last restart (none here), so every result in the log.
    const settled = new Set<string>();
    for (const record of log()) if (record.type === "step.succeeded" || record.type === "step.failed") settled.add(record.data.key);
    return settled;
  };
  /** Sends calls under the held lease; a lost lease drops the task, as a worker does. */
  const send = async (calls: WireCall[]): Promise<WireAnswer[] | undefined> => {
    if (!held) return undefined;
    try {
      const reply = await workers.calls("subject", held.task.lease, calls);
      held.live = reply.live !== undefined;
      take(reply.work, reply.end);
      return reply.answers;
    } catch (error) {
      if ((error as { code?: string }).code !== "lease.lost") throw error;
      held = undefined;
      return undefined;
    }
  };
  const take = (work: { type: string; key: string; attempt: unknown }[], end: boolean) => {
    for (const item of work) if (item.type === "run") told(item.key, (item.attempt as { attempt: number }).attempt);
    if (end) held = undefined;
  };
  const told = (key: string, attempt: number) => {
    if (settledKeys().has(key)) violations.push(`the engine told the worker to run ${key} attempt ${attempt} after its result was recorded`);
    held?.toRun.push({ key, attempt });
  };
  /** run() going on in the held pass: each step answered from the log is passed, until one must run or wait. */
  const proceed = async (): Promise<void> => {
    while (held && held.next < steps.length) {
      const step = steps[held.next]!;
      const count = (held.counts.get(step.name) ?? 0) + 1;
      held.counts.set(step.name, count);
      const call: WireCall = { type: "step", name: step.name, config: { retries: { limit: step.limit, delay: 1000, backoff: "constant" } } };
      if (fused && held.live) {
        const key = `do:${step.name}-${count}`;
        if (log().some((r) => r.type === "step.started" && r.data.key === key)) violations.push(`the engine said the pass was live, but the log holds ${key}: its body ran again`);
        call.done = step.eagerOk ? { count, ok: true, value: { json: `${key}#eager` } } : { count, ok: false, error: { name: "Error", message: `${key} failed` } };
      }
      const answers = await send([call]);
      const answer = answers?.[0];
      if (!answer || !held) return;
      held.next += 1;
      if ("run" in answer) return told(answer.key, answer.run.attempt);
      if ("value" in answer) {
        held.values.push((answer.value as { json: unknown }).json);
        continue;
      }
      if ("error" in answer) {
        await send([{ type: "failed", error: answer.error }]);
        return;
      }
      return; // pending, refused or stale: run() waits here
    }
    if (held && held.next === steps.length) {
      held.next += 1;
      await send([{ type: "completed", output: { json: held.values as never } }]);
    }
  };

  const apply = async (op: Op) => {
    switch (op.op) {
      case "claim": {
        if (held) return;
        const task = await workers.claim("test", 0);
        if (!task) return;
        held = { task, next: 0, values: [], toRun: [], done: [], live: false, counts: new Map() };
        return proceed();
      }
      case "finish": {
        const attempt = held?.toRun.splice(op.pick % Math.max(held.toRun.length, 1), 1)[0];
        if (!held || !attempt) return;
        held.done.push(attempt);
        const answers = await send([
          op.ok
            ? { type: "result", key: attempt.key, attempt: attempt.attempt, ok: true, value: { json: `${attempt.key}#${attempt.attempt}` } }
            : { type: "result", key: attempt.key, attempt: attempt.attempt, ok: false, error: { name: "Error", message: `${attempt.key} failed` } },
        ]);
        const answer = answers?.[0];
        // The step run() awaited has its answer now: run() goes on.
        if (answer && "value" in answer) {
          held?.values.push((answer.value as { json: unknown }).json);
          return proceed();
        }
        if (answer && "error" in answer) {
          await send([{ type: "failed", error: answer.error }]);
          return;
        }
        if (answer && "run" in answer) told(answer.key, answer.run.attempt);
        return;
      }
      case "late": {
        const attempt = held?.done[op.pick % Math.max(held.done.length, 1)];
        if (attempt) await send([{ type: "result", key: attempt.key, attempt: attempt.attempt, ok: true, value: { json: "late" } }]);
        return;
      }
      case "heartbeat": {
        if (!held) return;
        try {
          const beat = await workers.heartbeat("subject", held.task.lease, 0);
          take(beat.work, beat.end);
        } catch (error) {
          if ((error as { code?: string }).code !== "lease.lost") throw error;
          held = undefined;
        }
        return;
      }
      case "release":
        if (!held || held.toRun.length) return;
        try {
          await workers.release("subject", held.task.lease);
        } catch (error) {
          if ((error as { code?: string }).code !== "lease.lost") throw error;
        }
        held = undefined;
        return;
      case "advance":
        clock.advance(op.ms);
        return;
      case "lapse":
        clock.advance(LEASE_MS);
        return;
      case "pause":
        if ((await instance.status()).status !== "complete" && (await instance.status()).status !== "errored") await instance.pause().catch(() => undefined);
        return;
      case "resume":
        await instance.resume().catch(() => undefined);
        return;
      case "crash":
        host.crash();
        return;
    }
  };

  for (const op of ops) await apply(op);
  // A well-behaved worker from here: resume, then claim, succeed everything, heartbeat, and let time pass.
  await instance.resume().catch(() => undefined);
  for (let round = 0; round < 60; round++) {
    const { status } = await instance.status();
    if (status === "complete" || status === "errored") break;
    await apply({ op: "claim" });
    while (held?.toRun.length) await apply({ op: "finish", pick: 0, ok: true });
    await apply({ op: "heartbeat" });
    if (held && !held.toRun.length) await apply({ op: "release" });
    clock.advance(1000);
  }
  return { log: log(), status: await instance.status(), violations };
}

const asScenario = (steps: Step[]): Scenario => ({
  program: { instructions: steps.map((step) => ({ kind: "do" as const, step: { ...step, delay: 1000, backoff: "constant" as const, rollback: false } })), ending: "return" },
  ops: [],
  snapshotEvery: 100,
});

describe("the Python worker protocol, engine side (fast-check, seeded)", () => {
  it("no step is told to run after its result is recorded, the log stays well formed, and a well-behaved worker then ends the run", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 4 }), fc.array(opArb, { maxLength: 25 }), fc.boolean(), async (steps, ops, fused) => {
        const { log, status, violations } = await play(steps, ops, fused);
        const explain = (problem: string) => `${problem}\nsteps ${JSON.stringify(steps)}\nops ${JSON.stringify(ops)}\nfused ${fused}\nstatus ${JSON.stringify(status)}\nlog:\n${formatLog(log as LogRecord[])}`;
        expect(violations, explain("violations")).toEqual([]);
        expect(malformations(log, asScenario(steps)), explain("malformed log")).toEqual([]);
        expect(["complete", "errored"], explain("the run did not end")).toContain(status.status);
        if (status.status === "complete") {
          // Each step's value is the one its successful attempt gave, in call order.
          const values = new Map(log.flatMap((r) => (r.type === "step.succeeded" ? [[r.data.key, r.data.output] as const] : [])));
          const counts = new Map<string, number>();
          const keys = steps.map(({ name }) => `do:${name}-${counts.set(name, (counts.get(name) ?? 0) + 1).get(name)}`);
          expect(status.output, explain("the output")).toEqual(keys.map((key) => values.get(key)));
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: false },
    );
  }, 120_000);
});
