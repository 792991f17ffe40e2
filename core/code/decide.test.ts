import { describe, expect, it } from "vitest";
import { DurableMachinesError } from "../errors";
import type { LogRecord } from "../records";
import { DEFAULT_RETENTION } from "../retention";
import type { StepPolicy } from "../retry";
import { WorkflowFatalError } from "./config";
import { createCode, decideCode, loadedKernel, needsRetryDelay, type CodeCommand, type CodeDecision, type CodeKernel } from "./decide";
import { TERMINATED_FOR_ROLLBACK } from "../saga";
import { foldCode } from "./fold";
import { codeStatusName } from "./status";

/**
 * The code-first kernel on its own: no host, no clock, no promises. Each test plays the host: it sends commands,
 * keeps the records as its log, and reads the effects it would carry out. Time and ids are the test's.
 */

const POLICY: StepPolicy = { limit: 2, delayMs: 1_000, backoff: "constant", timeoutMs: 60_000 };
const call = (policy: Partial<StepPolicy> = {}, more: { delayFunction?: boolean; logged?: { config?: never } } = {}) => ({
  policy: { ...POLICY, ...policy },
  delayFunction: more.delayFunction ?? false,
  logged: more.logged ?? {},
  sensitive: false,
});
const BOOM = { name: "Error", message: "boom" };
const DEF = { name: "kernel", hash: "h1" } as never;

/** A host of one kernel: a log, a time the test moves, ids in order. */
function host(options: { stepLimit?: number } = {}) {
  let now = 1_000;
  let ids = 0;
  const nextId = () => `r${++ids}`;
  const log: LogRecord[] = [];
  const created = createCode(DEF, "k", { retention: DEFAULT_RETENTION }, { now, nextId });
  log.push(...created.decision.records);
  let kernel: CodeKernel = created.kernel;
  const ctx = () => ({ now, nextId, stepLimit: options.stepLimit ?? 100, stateBefore: (seq: number) => foldCode(log.filter((r) => r.seq < seq)) });
  const h = {
    created: created.decision,
    log,
    get kernel() {
      return kernel;
    },
    get book() {
      return kernel.state.book;
    },
    get pass() {
      return kernel.session.pass;
    },
    advance(ms: number) {
      now += ms;
    },
    get now() {
      return now;
    },
    send(command: CodeCommand): CodeDecision {
      const decision = decideCode(kernel, command, ctx());
      log.push(...decision.records);
      return decision;
    },
    /** A step call of the live pass. */
    step(name: string, policy: Partial<StepPolicy> = {}, handler = false): CodeDecision {
      return h.send({ type: "step.call", pass: kernel.session.pass, name, call: call(policy), ...(handler ? { handler: call() } : {}) });
    },
    ok(key: string, attempt = 1, value: unknown = key): CodeDecision {
      return h.send({ type: "step.result", key, attempt, outcome: { ok: true, value } });
    },
    /** Sends a command that must be refused: it throws, and the state, the session and the log stay as they were. */
    refuse(command: CodeCommand): unknown {
      const state = structuredClone(kernel.state);
      const session = structuredClone(kernel.session);
      const length = log.length;
      let caught: unknown;
      try {
        h.send(command);
      } catch (error) {
        caught = error;
      }
      expect(caught, `${command.type} was not refused`).toBeDefined();
      expect(log.length).toBe(length);
      expect(kernel.state).toStrictEqual(state);
      expect(kernel.session).toStrictEqual(session);
      return caught;
    },
    /** A new object loads the log: a fresh kernel from its fold, then `recover`. */
    load(): CodeDecision {
      kernel = loadedKernel(foldCode(log));
      return h.send({ type: "recover" });
    },
  };
  return h;
}

const types = (decision: CodeDecision) => decision.records.map((r) => r.type);
const coded = (error: unknown, code: string) => {
  expect(error).toBeInstanceOf(DurableMachinesError);
  expect((error as DurableMachinesError).code).toBe(code);
};
const fatal = (error: unknown, message: string | RegExp) => {
  expect(error).toBeInstanceOf(WorkflowFatalError);
  expect((error as Error).name).toBe("WorkflowFatalError");
  expect((error as Error).message).toMatch(message);
};

/** Sends a command that changes nothing (a late result, a call of an older pass): no records, no effects, state and session as they were. */
function ignored(h: ReturnType<typeof host>, command: CodeCommand): void {
  const state = structuredClone(h.kernel.state);
  const session = structuredClone(h.kernel.session);
  const decision = h.send(command);
  expect(decision.records).toEqual([]);
  expect(decision.effects).toEqual([]);
  expect(h.kernel.state).toStrictEqual(state);
  expect(h.kernel.session).toStrictEqual(session);
}

describe("code-first kernel: creation and step calls", () => {
  it("creates with instance.created and asks for the first pass of run()", () => {
    const h = host();
    expect(types(h.created)).toEqual(["instance.created"]);
    expect(h.created.records[0]).toMatchObject({ seq: 1, id: "r1", at: 1_000, data: { workflow: "kernel", instanceId: "k", definitionHash: "h1" } });
    expect(h.created.effects).toEqual([{ type: "run.start", pass: 1 }]);
  });

  it("a step call whose key has no result starts attempt 1: one step.started and one step.run with the step's timeout", () => {
    const h = host();
    const decision = h.step("a", { timeoutMs: 5_000 });
    expect(decision.key).toBe("do:a-1");
    expect(decision.records).toMatchObject([{ type: "step.started", seq: 2, at: 1_000, data: { key: "do:a-1", attempt: 1 } }]);
    expect(decision.effects).toEqual([{ type: "step.run", key: "do:a-1", attempt: 1, timeoutMs: 5_000 }]);
    expect(h.step("a").key).toBe("do:a-2");
    expect(codeStatusName(h.book)).toBe("running");
  });

  it("a step call whose key has a result is answered from the log: the key, no record, no effect", () => {
    const h = host();
    h.step("a");
    h.ok("do:a-1");
    h.load();
    const replayed = h.step("a");
    expect(replayed).toEqual({ records: [], effects: [], key: "do:a-1" });
  });

  it("the first step.started keeps the logged config; a retry's does not", () => {
    const h = host();
    const config = { retries: { limit: 2 } } as never;
    const first = h.send({ type: "step.call", pass: h.pass, name: "a", call: call({}, { logged: { config } }) });
    expect(first.records[0]!.data).toEqual({ key: "do:a-1", attempt: 1, config });
    h.send({ type: "step.result", key: "do:a-1", attempt: 1, outcome: { ok: false, error: BOOM } });
    h.advance(1_000);
    expect(h.send({ type: "wake" }).records[0]!.data).toEqual({ key: "do:a-1", attempt: 2 });
  });

  it("a call of an older pass gets no key and changes nothing", () => {
    const h = host();
    h.send({ type: "pause" });
    h.send({ type: "resume" });
    expect(h.pass).toBe(3);
    ignored(h, { type: "step.call", pass: 1, name: "a", call: call() });
    ignored(h, { type: "sleep", pass: 1, name: "s", ms: 10 });
    ignored(h, { type: "run.completed", pass: 1, output: 1 });
  });
});

describe("code-first kernel: refusals throw a typed error and change nothing", () => {
  it("resume when not paused: instance.cannot_resume", () => {
    const h = host();
    h.step("a");
    coded(h.refuse({ type: "resume" }), "instance.cannot_resume");
  });

  it("terminate when ended: instance.cannot_terminate", () => {
    const h = host();
    h.send({ type: "run.completed", pass: h.pass, output: 1 });
    coded(h.refuse({ type: "terminate" }), "instance.cannot_terminate");
    coded(h.refuse({ type: "terminate", rollback: true }), "instance.cannot_terminate");
  });

  it("restart from a key no step of the run has: instance.cannot_restart; from a non-string: restart.invalid_from", () => {
    const h = host();
    h.step("a");
    coded(h.refuse({ type: "restart", from: "do:nope-1" }), "instance.cannot_restart");
    coded(h.refuse({ type: "restart", from: 42 as never }), "restart.invalid_from");
    coded(h.refuse({ type: "restart", from: { name: "a" } as never }), "restart.invalid_from");
  });

  it("a step call during a saga: Cloudflare's WorkflowFatalError", () => {
    const h = host();
    h.step("a", {}, true);
    h.ok("do:a-1");
    const pass = h.pass;
    h.send({ type: "run.failed", pass, error: BOOM });
    expect(h.kernel.session.saga).toBeDefined();
    fatal(h.refuse({ type: "step.call", pass, name: "b", call: call() }), "Cannot execute steps during rollback phase");
    fatal(h.refuse({ type: "sleep", pass, name: "s", ms: 1 }), "Cannot execute steps during rollback phase");
  });

  it("an event to an ended instance: instance.finished", () => {
    const h = host();
    h.send({ type: "terminate" });
    coded(h.refuse({ type: "event", event: "go" }), "instance.finished");
  });

  it("a malformed event type, in an event or in a wait: event.invalid", () => {
    const h = host();
    coded(h.refuse({ type: "event", event: "no spaces" }), "event.invalid");
    coded(h.refuse({ type: "wait", pass: h.pass, name: "w", eventType: 7 }), "event.invalid");
  });

  it("a step name longer than 256 characters, or with control characters: WorkflowFatalError", () => {
    const h = host();
    fatal(h.refuse({ type: "step.call", pass: h.pass, name: "x".repeat(257), call: call() }), /exceeds max length \(256 chars\)/);
    fatal(h.refuse({ type: "sleep", pass: h.pass, name: "a\nb", ms: 1 }), /invalid characters/);
    fatal(h.refuse({ type: "wait", pass: h.pass, name: "y".repeat(300), eventType: "go" }), /exceeds max length/);
  });

  it("a sleep past 365 days, or until a time that is not a number: WorkflowFatalError", () => {
    const h = host();
    fatal(h.refuse({ type: "sleep", pass: h.pass, name: "s", ms: 366 * 86_400_000 }), /365-day limit/);
    fatal(h.refuse({ type: "sleep.until", pass: h.pass, name: "s", at: Number.NaN }), /needs a Date or epoch milliseconds/);
  });

  // The first kernel counted the refused call (session.steps) before it threw.
  it("the step limit reached: WorkflowFatalError with Cloudflare's message", () => {
    const h = host({ stepLimit: 2 });
    h.step("a");
    h.step("b");
    fatal(h.refuse({ type: "step.call", pass: h.pass, name: "c", call: call() }), "The limit of 2 steps has been reached.");
  });

  // The first kernel took the key (`sleep:s-1`) before it threw, so the next sleepUntil("s") of the pass got `sleep:s-2`.
  it("sleepUntil a time in the past: Cloudflare's Error", () => {
    const h = host();
    const error = h.refuse({ type: "sleep.until", pass: h.pass, name: "s", at: h.now - 1 }) as Error;
    expect(error.name).toBe("Error");
    expect(error.message).toBe("You can't sleep until a time in the past, time-traveler");
  });
});

describe("code-first kernel: step results", () => {
  it("a success records the result and the instance's state answers the key from then on", () => {
    const h = host();
    h.step("a");
    const decision = h.ok("do:a-1", 1, { n: 1 });
    expect(decision.records).toMatchObject([{ type: "step.succeeded", data: { key: "do:a-1", attempt: 1, output: { n: 1 } } }]);
    expect(decision.effects).toEqual([]);
    expect(h.book.results["do:a-1"]).toEqual({ ok: true, output: { n: 1 } });
    expect(h.kernel.session.running.size).toBe(0);
  });

  it("a retried failure waits for its delay: nothing starts before retryAt, attempt 2 starts on the wake at retryAt", () => {
    const h = host();
    h.step("a", { delayMs: 500, backoff: "linear" });
    const failed = h.send({ type: "step.result", key: "do:a-1", attempt: 1, outcome: { ok: false, error: BOOM } });
    expect(failed.records).toMatchObject([{ type: "step.attempt_failed", data: { key: "do:a-1", attempt: 1, error: BOOM, retryAt: 1_500 } }]);
    expect(failed.effects).toEqual([]);
    expect(codeStatusName(h.book)).toBe("waiting");
    h.advance(499);
    expect(h.send({ type: "wake" })).toEqual({ records: [], effects: [] });
    h.advance(1);
    const retried = h.send({ type: "wake" });
    expect(types(retried)).toEqual(["step.started"]);
    expect(retried.effects).toEqual([{ type: "step.run", key: "do:a-1", attempt: 2, timeoutMs: 60_000 }]);
    // The second failure waits twice the delay (linear).
    expect(h.send({ type: "step.result", key: "do:a-1", attempt: 2, outcome: { ok: false, error: BOOM } }).records[0]!.data).toMatchObject({ retryAt: 1_500 + 1_000 });
  });

  it("a failure past the retry limit, or a NonRetryableError, fails the step for good", () => {
    const h = host();
    h.step("a", { limit: 0 });
    expect(types(h.send({ type: "step.result", key: "do:a-1", attempt: 1, outcome: { ok: false, error: BOOM } }))).toEqual(["step.attempt_failed", "step.failed"]);
    expect(h.book.results["do:a-1"]).toEqual({ ok: false, error: BOOM });
    h.step("b");
    const nonRetryable = { name: "NonRetryableError", message: "no" };
    expect(types(h.send({ type: "step.result", key: "do:b-1", attempt: 1, outcome: { ok: false, error: nonRetryable } }))).toEqual(["step.attempt_failed", "step.failed"]);
  });

  it("a step with a delay function: the caller is asked for the delay while a retry is left, and the answer is the wait", () => {
    const h = host();
    h.send({ type: "step.call", pass: h.pass, name: "a", call: call({ limit: 1 }, { delayFunction: true }) });
    expect(needsRetryDelay(h.kernel, "do:a-1", BOOM)).toBe(true);
    expect(needsRetryDelay(h.kernel, "do:a-1", { name: "NonRetryableError", message: "x" })).toBe(false);
    const failed = h.send({ type: "step.result", key: "do:a-1", attempt: 1, outcome: { ok: false, error: BOOM, delay: { ms: 7 } } });
    expect(failed.records[0]!.data).toMatchObject({ retryAt: 1_007 });
    h.advance(7);
    h.send({ type: "wake" });
    expect(needsRetryDelay(h.kernel, "do:a-1", BOOM)).toBe(false);
  });

  it("a delay function that failed fails the step with its error, not retried", () => {
    const h = host();
    h.send({ type: "step.call", pass: h.pass, name: "a", call: call({}, { delayFunction: true }) });
    const delayError = { name: "NonRetryableDelayError", message: "bad delay" };
    const decision = h.send({ type: "step.result", key: "do:a-1", attempt: 1, outcome: { ok: false, error: BOOM, delay: { error: delayError } } });
    expect(decision.records.map((r) => [r.type, (r.data as { error: unknown }).error])).toEqual([
      ["step.attempt_failed", BOOM],
      ["step.failed", { ...delayError, nonRetryable: true }],
    ]);
  });

  it("an output that cannot be kept ends the instance errored, as Cloudflare does, with no rollback", () => {
    const h = host();
    h.step("a", {}, true);
    h.ok("do:a-1");
    h.step("b");
    const decision = h.ok("do:b-1", 1, () => 1);
    expect(types(decision)).toEqual(["step.attempt_failed", "step.failed", "instance.errored"]);
    expect(h.book.ended).toMatchObject({ status: "errored", error: { name: "WorkflowFatalError" } });
    expect(h.book.rollback).toBeNull();
  });

  it("a late result changes nothing: a wrong attempt, a key never started, a result after a terminate", () => {
    const h = host();
    h.step("a");
    ignored(h, { type: "step.result", key: "do:a-1", attempt: 2, outcome: { ok: true, value: 1 } });
    ignored(h, { type: "step.result", key: "do:zz-1", attempt: 1, outcome: { ok: true, value: 1 } });
    h.send({ type: "step.result", key: "do:a-1", attempt: 1, outcome: { ok: false, error: BOOM } });
    // Attempt 1 has failed and waits for its retry: its result again is late.
    ignored(h, { type: "step.result", key: "do:a-1", attempt: 1, outcome: { ok: true, value: 1 } });
    h.advance(1_000);
    h.send({ type: "wake" });
    const stopped = h.send({ type: "terminate" });
    expect(stopped.effects).toEqual([{ type: "steps.stop", reason: "The instance stopped this step." }]);
    ignored(h, { type: "step.result", key: "do:a-1", attempt: 2, outcome: { ok: true, value: 1 } });
  });

  it("a result after a restart changes nothing: the new pass's attempt is another one", () => {
    const h = host();
    h.step("a");
    h.send({ type: "restart" });
    ignored(h, { type: "step.result", key: "do:a-1", attempt: 1, outcome: { ok: true, value: 1 } });
  });
});

describe("code-first kernel: sleeps, waits and events", () => {
  it("a sleep starts a timer due after its length; the wake at that time fires it; its replay writes nothing", () => {
    const h = host();
    const started = h.send({ type: "sleep", pass: h.pass, name: "s", ms: 100 });
    expect(started.key).toBe("sleep:s-1");
    expect(started.records).toMatchObject([{ type: "timer.started", data: { id: "sleep:s-1", dueAt: 1_100 } }]);
    h.advance(99);
    expect(h.send({ type: "wake" }).records).toEqual([]);
    h.advance(1);
    expect(h.send({ type: "wake" }).records).toMatchObject([{ type: "timer.fired", data: { id: "sleep:s-1" } }]);
    h.load();
    expect(h.send({ type: "sleep", pass: h.pass, name: "s", ms: 100 })).toEqual({ records: [], effects: [], key: "sleep:s-1" });
  });

  it("sleepUntil a future time starts a timer due then", () => {
    const h = host();
    expect(h.send({ type: "sleep.until", pass: h.pass, name: "s", at: 5_000 }).records[0]!.data).toEqual({ id: "sleep:s-1", dueAt: 5_000 });
  });

  it("an event sent before its wait is held, then taken by the wait; a repeated idempotency key writes nothing", () => {
    const h = host();
    expect(types(h.send({ type: "event", event: "go", payload: { n: 1 }, idempotencyKey: "k1" }))).toEqual(["event.received"]);
    expect(h.send({ type: "event", event: "go", payload: { n: 2 }, idempotencyKey: "k1" }).records).toEqual([]);
    expect(h.book.buffer).toHaveLength(1);
    const waited = h.send({ type: "wait", pass: h.pass, name: "w", eventType: "go", timeoutMs: 50 });
    expect(waited.records).toMatchObject([{ type: "wait.started", data: { key: "waitForEvent:w-1", type: "go", dueAt: 1_050, timeoutMs: 50 } }]);
    expect(h.book.waits["waitForEvent:w-1"]!.outcome).toEqual({ event: { type: "go", payload: { n: 1 }, at: 1_000 } });
    expect(h.book.buffer).toEqual([]);
  });

  it("a wait with no event times out on the wake at its deadline; a wait with no timeout gets Cloudflare's 24 hours", () => {
    const h = host();
    h.send({ type: "wait", pass: h.pass, name: "w", eventType: "go", timeoutMs: 50 });
    expect(h.send({ type: "wait", pass: h.pass, name: "x", eventType: "go" }).records[0]!.data).toMatchObject({ dueAt: 1_000 + 86_400_000 });
    h.advance(50);
    expect(h.send({ type: "wake" }).records).toMatchObject([{ type: "timer.fired", data: { id: "waitForEvent:w-1" } }]);
    expect(h.book.waits["waitForEvent:w-1"]!.outcome).toEqual({ timedOut: true });
  });
});

describe("code-first kernel: pause and resume", () => {
  it("a pause with nothing running takes effect at once: the pass ends, and a resume starts a new one", () => {
    const h = host();
    const paused = h.send({ type: "pause" });
    expect(types(paused)).toEqual(["instance.paused"]);
    expect(paused.effects).toEqual([]);
    expect(h.pass).toBe(2);
    expect(codeStatusName(h.book)).toBe("paused");
    expect(h.send({ type: "pause" })).toEqual({ records: [], effects: [] });
    const resumed = h.send({ type: "resume" });
    expect(types(resumed)).toEqual(["instance.resumed"]);
    expect(resumed.effects).toEqual([{ type: "run.start", pass: 3 }]);
  });

  it("a pause with an attempt running waits for it (waitingForPause) and takes effect on its result", () => {
    const h = host();
    h.step("a");
    const paused = h.send({ type: "pause" });
    expect(paused.effects).toEqual([]);
    expect(codeStatusName(h.book)).toBe("waitingForPause");
    expect(h.kernel.session.pausePending).toBe(true);
    expect(h.pass).toBe(1);
    // The pass goes on meanwhile, but what it asks for does not start.
    expect(h.step("b")).toMatchObject({ records: [], effects: [], key: "do:b-1" });
    h.ok("do:a-1");
    expect(h.pass).toBe(2);
    expect(codeStatusName(h.book)).toBe("paused");
    expect(h.send({ type: "resume" }).effects).toEqual([{ type: "run.start", pass: 3 }]);
  });

  it("a resume while the pause still waits keeps the pass (no replay) and starts the steps it asked for meanwhile", () => {
    const h = host();
    h.step("a");
    h.send({ type: "pause" });
    h.step("b");
    const resumed = h.send({ type: "resume" });
    expect(types(resumed)).toEqual(["instance.resumed", "step.started"]);
    expect(resumed.effects).toEqual([{ type: "step.run", key: "do:b-1", attempt: 1, timeoutMs: 60_000 }]);
    expect(h.pass).toBe(1);
    expect(h.kernel.session.pausePending).toBe(false);
    expect(types(h.ok("do:a-1"))).toEqual(["step.succeeded"]);
    expect(h.pass).toBe(1);
  });

  it("a pause shifts every deadline by its length: sleeps, event waits and retries", () => {
    const h = host();
    h.send({ type: "sleep", pass: h.pass, name: "s", ms: 100 });
    h.send({ type: "wait", pass: h.pass, name: "w", eventType: "go", timeoutMs: 200 });
    h.step("a", { delayMs: 300 });
    h.send({ type: "step.result", key: "do:a-1", attempt: 1, outcome: { ok: false, error: BOOM } });
    h.send({ type: "pause" });
    h.advance(1_000);
    expect(h.send({ type: "wake" }).records).toEqual([]);
    h.send({ type: "resume" });
    expect(h.book.sleeps["sleep:s-1"]!.dueAt).toBe(2_100);
    expect(h.book.waits["waitForEvent:w-1"]!.dueAt).toBe(2_200);
    expect(h.book.steps["do:a-1"]!.retryAt).toBe(2_300);
  });
});

describe("code-first kernel: endings, terminate and the saga", () => {
  it("run.completed ends the instance complete with its output; a second ending changes nothing", () => {
    const h = host();
    expect(types(h.send({ type: "run.completed", pass: h.pass, output: { done: true } }))).toEqual(["instance.completed"]);
    expect(h.book.ended).toEqual({ status: "complete", output: { done: true } });
    ignored(h, { type: "run.failed", pass: h.pass, error: BOOM });
  });

  it("run.failed with no rollback handler ends the instance errored", () => {
    const h = host();
    expect(types(h.send({ type: "run.failed", pass: h.pass, error: BOOM }))).toEqual(["instance.errored"]);
    expect(h.book.ended).toEqual({ status: "errored", error: BOOM });
  });

  it("terminate without rollback stops what runs and ends the instance terminated", () => {
    const h = host();
    h.step("a", {}, true);
    const decision = h.send({ type: "terminate" });
    expect(types(decision)).toEqual(["instance.terminated"]);
    expect(decision.effects).toEqual([{ type: "steps.stop", reason: "The instance stopped this step." }]);
    expect(h.book.ended).toEqual({ status: "terminated" });
  });

  it("terminate with rollback runs the handlers of the started steps newest first, one at a time, then ends terminated", () => {
    const h = host();
    for (const name of ["a", "b", "c"]) {
      h.step(name, {}, true);
      h.ok(`do:${name}-1`);
    }
    h.step("plain");
    const started = h.send({ type: "terminate", rollback: true });
    expect(types(started)).toEqual(["rollback.started", "rollback.step.started"]);
    expect(started.records[0]!.data).toEqual({ error: TERMINATED_FOR_ROLLBACK, trigger: "terminate" });
    expect(started.effects).toEqual([
      { type: "steps.stop", reason: "The instance is rolling back." },
      { type: "rollback.run", key: "do:c-1", attempt: 1, timeoutMs: 60_000 },
    ]);
    expect(codeStatusName(h.book)).toBe("rollingBack");
    expect(h.send({ type: "rollback.result", key: "do:c-1", attempt: 1 }).effects).toEqual([{ type: "rollback.run", key: "do:b-1", attempt: 1, timeoutMs: 60_000 }]);
    // A late handler result changes nothing.
    ignored(h, { type: "rollback.result", key: "do:c-1", attempt: 1 });
    ignored(h, { type: "rollback.result", key: "do:b-1", attempt: 2 });
    expect(h.send({ type: "rollback.result", key: "do:b-1", attempt: 1 }).effects).toEqual([{ type: "rollback.run", key: "do:a-1", attempt: 1, timeoutMs: 60_000 }]);
    const ended = h.send({ type: "rollback.result", key: "do:a-1", attempt: 1 });
    expect(types(ended)).toEqual(["rollback.step.succeeded", "rollback.completed", "instance.terminated"]);
    expect(h.book.rollback).toMatchObject({ done: ["do:c-1", "do:b-1", "do:a-1"], finished: true });
  });

  it("a handler that fails waits its retry delay, then runs again; past its limit the saga ends errored", () => {
    const h = host();
    h.step("a", {}, true);
    h.ok("do:a-1");
    h.send({ type: "run.failed", pass: h.pass, error: BOOM });
    const failed = h.send({ type: "rollback.result", key: "do:a-1", attempt: 1, error: BOOM });
    expect(failed.records).toMatchObject([{ type: "rollback.step.attempt_failed", data: { key: "do:a-1", attempt: 1, retryAt: 2_000 } }]);
    expect(failed.effects).toEqual([]);
    h.advance(1_000);
    expect(h.send({ type: "wake" }).effects).toEqual([{ type: "rollback.run", key: "do:a-1", attempt: 2, timeoutMs: 60_000 }]);
    h.send({ type: "rollback.result", key: "do:a-1", attempt: 2, error: BOOM });
    h.advance(1_000);
    h.send({ type: "wake" });
    const last = h.send({ type: "rollback.result", key: "do:a-1", attempt: 3, error: BOOM });
    expect(types(last)).toEqual(["rollback.step.attempt_failed", "rollback.step.failed", "rollback.errored", "instance.errored"]);
    expect(h.book.ended).toEqual({ status: "errored", error: BOOM });
  });

  it("a terminate during a saga cuts it short, whatever it asks", () => {
    const h = host();
    h.step("a", {}, true);
    h.ok("do:a-1");
    h.send({ type: "run.failed", pass: h.pass, error: BOOM });
    const decision = h.send({ type: "terminate", rollback: true });
    expect(types(decision)).toEqual(["instance.terminated"]);
    expect(decision.effects).toEqual([{ type: "steps.stop", reason: "The instance stopped this step." }]);
    ignored(h, { type: "rollback.result", key: "do:a-1", attempt: 1 });
  });
});

describe("code-first kernel: restart and recovery", () => {
  it("restart from the top: the pass stops, the run starts over on a fresh state", () => {
    const h = host();
    h.step("a");
    h.ok("do:a-1");
    h.step("b");
    const decision = h.send({ type: "restart" });
    expect(types(decision)).toEqual(["instance.restarted"]);
    expect(decision.records[0]!.data).toEqual({});
    expect(decision.effects).toEqual([{ type: "steps.stop", reason: "The instance stopped this step." }, { type: "streams.collect" }, { type: "run.start", pass: 3 }]);
    expect(h.book.results).toEqual({});
    expect(h.book.steps).toEqual({});
    expect(h.step("a").records).toMatchObject([{ type: "step.started", data: { key: "do:a-1", attempt: 1 } }]);
  });

  it("restart from a step cuts the log where it first started: what came before is kept, times shifted", () => {
    const h = host();
    h.send({ type: "sleep", pass: h.pass, name: "s", ms: 10_000 });
    h.step("a");
    h.ok("do:a-1");
    h.step("b");
    h.ok("do:b-1");
    const cut = h.log.find((r) => r.type === "step.started" && r.data.key === "do:b-1")!.seq;
    h.advance(500);
    const decision = h.send({ type: "restart", from: "do:b-1" });
    expect(decision.records[0]!.data).toEqual({ from: "do:b-1", cut });
    expect(Object.keys(h.book.results)).toEqual(["do:a-1"]);
    // The sleep started before the cut and keeps its remaining time: the log before the cut was written at 1,000.
    expect(h.book.sleeps["sleep:s-1"]!.dueAt).toBe(11_500);
    expect(h.kernel.state).toEqual(foldCode(h.log));
  });

  it("recover starts a pass; while paused the pass only reads the log; a saga under way is asked to resume", () => {
    const h = host();
    h.step("a", {}, true);
    h.ok("do:a-1");
    expect(h.load().effects).toEqual([{ type: "streams.collect" }, { type: "run.start", pass: 1 }]);
    h.send({ type: "pause" });
    const paused = h.load();
    expect(paused.effects).toEqual([{ type: "streams.collect" }, { type: "run.start", pass: 1 }]);
    expect(h.kernel.session.readOnly).toBe(true);
    // The read-only replay registers the handler but starts nothing.
    expect(h.send({ type: "step.call", pass: 1, name: "a", call: call(), handler: call() }).records).toEqual([]);
    expect(h.send({ type: "step.call", pass: 1, name: "b", call: call() })).toMatchObject({ records: [], effects: [] });
    h.send({ type: "resume" });
    h.step("a", {}, true);
    h.send({ type: "run.failed", pass: h.pass, error: BOOM });
    const loaded = h.load();
    expect(loaded.effects).toEqual([{ type: "streams.collect" }, { type: "run.start", pass: 1 }, { type: "saga.resume" }]);
    // The replay's calls are answered from the log, its handler registered; its failure does not end the run.
    h.send({ type: "step.call", pass: 1, name: "a", call: call(), handler: call() });
    expect(h.send({ type: "saga.resume" }).effects).toEqual([{ type: "rollback.run", key: "do:a-1", attempt: 2, timeoutMs: 60_000 }]);
  });
});

describe("what a client across a wire sends is checked by the kernel, refused with a message and nothing changed", () => {
  const INVALID = /Step config for "a" is in a invalid format/;

  it.each([
    ["a negative retry limit", call({ limit: -1 })],
    ["a fractional retry limit", call({ limit: 1.5 })],
    ["an unknown backoff", call({ backoff: "sometimes" as never })],
    ["a zero timeout", call({ timeoutMs: 0 })],
    ["a delay that is not a number", call({ delayMs: Number.NaN })],
    ["a delayFunction flag that is not a boolean", { ...call(), delayFunction: "yes" as never }],
    ["a logged config with another key", { ...call(), logged: { config: {}, extra: 1 } as never }],
    ["no policy at all", { delayFunction: false, logged: {}, sensitive: false } as never],
  ])("a step call with %s", (_, bad) => {
    const h = host();
    fatal(h.refuse({ type: "step.call", pass: h.pass, name: "a", call: bad }), INVALID);
    // The same call, well formed, is then the first occurrence: the refusal took no key.
    expect(h.step("a").effects).toEqual([expect.objectContaining({ type: "step.run", key: "do:a-1", attempt: 1 })]);
  });

  it("a rollback handler with an invalid policy", () => {
    const h = host();
    fatal(h.refuse({ type: "step.call", pass: h.pass, name: "a", call: call(), handler: call({ limit: -2 }) }), INVALID);
  });

  it.each([
    ["negative", -5],
    ["not a number", Number.NaN],
    ["infinite", Number.POSITIVE_INFINITY],
  ])("a sleep whose duration is %s", (_, ms) => {
    const h = host();
    fatal(h.refuse({ type: "sleep", pass: h.pass, name: "nap", ms }), 'The duration of the sleep of "nap" must be a number of milliseconds, 0 or more.');
  });

  it("an event wait whose timeout is infinite", () => {
    const h = host();
    fatal(h.refuse({ type: "wait", pass: h.pass, name: "w", eventType: "go", timeoutMs: Number.POSITIVE_INFINITY }), 'The timeout of the event wait of "w" must be a number of milliseconds, 0 or more.');
  });
});
