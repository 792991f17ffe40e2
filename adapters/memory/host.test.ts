import { describe, expect, it } from "vitest";
import { assign, setup } from "xstate";
import {
  createManualClock,
  createMemoryHost,
  defineWorkflow,
  DurableMachinesError,
  InvalidOperationError,
  NonRetryableError,
  step,
  type InstanceHandle,
  type LogRecord,
  type StepArgs,
  type StepConfig,
  type WorkflowDefinition,
} from "../../index";

// ---------------------------------------------------------------- helpers

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Waits until `signal` aborts, then rejects with its reason, as a well-behaved long step does. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** Lets pending promise callbacks run, without waiting on any step (for steps the test holds open). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function hostFor(defs: WorkflowDefinition[], extra: { snapshotEvery?: number } = {}) {
  const clock = createManualClock();
  const host = createMemoryHost({ workflows: defs, clock, ...extra });
  return { clock, host };
}

const typesOf = (log: readonly LogRecord[]) => log.map((r) => r.type);

function recordsOf<T extends LogRecord["type"]>(log: readonly LogRecord[], type: T): LogRecord<T>[] {
  return log.filter((r) => r.type === type) as LogRecord<T>[];
}

async function refusal(action: () => Promise<unknown>): Promise<DurableMachinesError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DurableMachinesError);
  return caught as DurableMachinesError;
}

// ---------------------------------------------------------------- machines

/** a -> b -> c, each step adding to a running total; output is the total and the trail. */
function sequentialWorkflow(calls: Record<string, number> = {}, gates: Partial<Record<string, Promise<void>>> = {}) {
  const body = (name: string, add: number) =>
    step(async ({ input }: { input: number }) => {
      calls[name] = (calls[name] ?? 0) + 1;
      await gates[name];
      return input + add;
    });
  const machine = setup({
    types: { context: {} as { total: number; trail: string[] }, input: {} as { start: number } },
    actors: { a: body("a", 1), b: body("b", 10), c: body("c", 100) },
  }).createMachine({
    id: "seq",
    context: ({ input }) => ({ total: input.start, trail: [] }),
    initial: "a",
    states: {
      a: {
        invoke: {
          id: "a",
          src: "a",
          input: ({ context }) => context.total,
          onDone: { target: "b", actions: assign({ total: ({ event }) => event.output, trail: ({ context }) => [...context.trail, "a"] }) },
        },
      },
      b: {
        invoke: {
          id: "b",
          src: "b",
          input: ({ context }) => context.total,
          onDone: { target: "c", actions: assign({ total: ({ event }) => event.output, trail: ({ context }) => [...context.trail, "b"] }) },
        },
      },
      c: {
        invoke: {
          id: "c",
          src: "c",
          input: ({ context }) => context.total,
          onDone: { target: "done", actions: assign({ total: ({ event }) => event.output, trail: ({ context }) => [...context.trail, "c"] }) },
        },
      },
      done: { type: "final" },
    },
    output: ({ context }) => context,
  });
  return defineWorkflow({ name: "seq", machine });
}

/** One step whose body the test supplies, with onError (to "failed") or without. */
function singleStepWorkflow(
  body: (args: { input: unknown; attempt: number; signal: AbortSignal; stepId: string }) => Promise<unknown>,
  config: StepConfig,
  withOnError: boolean,
) {
  const machine = setup({
    types: { context: {} as { error: unknown } },
    actors: { work: step(body) },
  }).createMachine({
    id: "single",
    context: { error: null },
    initial: "working",
    states: {
      working: {
        invoke: withOnError
          ? { id: "work", src: "work", onDone: "done", onError: { target: "failed", actions: assign({ error: ({ event }) => event.error }) } }
          : { id: "work", src: "work", onDone: "done" },
      },
      done: { type: "final" },
      failed: { type: "final" },
    },
    output: ({ context }) => ({ error: context.error }) as never,
  });
  return defineWorkflow({ name: "single", machine, steps: { work: config } });
}

// ---------------------------------------------------------------- tests

describe("memory host: a sequential workflow", () => {
  it("runs to complete with the machine's output, and its history is dense and in order", async () => {
    const { host } = hostFor([sequentialWorkflow()]);
    const instance = await host.workflow("seq").create({ id: "s1", params: { start: 5 } });
    await host.idle();

    const status = await instance.status();
    expect(status.status).toBe("complete");
    expect(status.output).toEqual({ total: 116, trail: ["a", "b", "c"] });

    const log = await instance.history();
    expect(typesOf(log)).toEqual([
      "instance.created",
      "step.started",
      "step.succeeded",
      "step.started",
      "step.succeeded",
      "step.started",
      "step.succeeded",
      "instance.completed",
    ]);
    expect(log.map((r) => r.seq)).toEqual(log.map((_, i) => i + 1));
    expect(log[0]).toMatchObject({ type: "instance.created", data: { workflow: "seq", instanceId: "s1", params: { start: 5 } } });
    expect(recordsOf(log, "step.succeeded").map((r) => [r.data.key, r.data.output])).toEqual([
      ["a#1", 6],
      ["b#1", 16],
      ["c#1", 116],
    ]);
    expect(log.at(-1)).toMatchObject({ type: "instance.completed", data: { output: { total: 116, trail: ["a", "b", "c"] } } });
    expect(new Set(log.map((r) => r.id)).size).toBe(log.length);
  });

  it("gives each step a stable stepId and its attempt", async () => {
    const seen: { stepId: string; attempt: number }[] = [];
    const def = singleStepWorkflow(
      async ({ stepId, attempt }) => {
        seen.push({ stepId, attempt });
        return "ok";
      },
      {},
      true,
    );
    const { host } = hostFor([def]);
    await host.workflow("single").create({ id: "x" });
    await host.idle();
    expect(seen).toEqual([{ stepId: "work#1", attempt: 1 }]);
  });
});

describe("memory host: retries", () => {
  const policy = { retries: { limit: 2, delay: "1 second" as const, backoff: "exponential" as const } };

  it("retries a failing step with exponential backoff, passing attempts 1, 2, 3", async () => {
    const attempts: number[] = [];
    const def = singleStepWorkflow(
      async ({ attempt }) => {
        attempts.push(attempt);
        if (attempt < 3) throw new Error(`flaky ${attempt}`);
        return `ok on ${attempt}`;
      },
      policy,
      true,
    );
    const { host, clock } = hostFor([def]);
    const instance = await host.workflow("single").create({ id: "r1" });
    await host.idle();

    expect(attempts).toEqual([1]);
    expect((await instance.status()).status).toBe("waiting");
    let failures = recordsOf(await instance.history(), "step.attempt_failed");
    expect(failures).toHaveLength(1);
    expect(failures[0]!.data).toMatchObject({ key: "work#1", attempt: 1, error: { name: "Error", message: "flaky 1" } });
    expect(failures[0]!.data.retryAt! - failures[0]!.at).toBe(1000);

    clock.advance(999);
    await host.idle();
    expect(attempts).toEqual([1]);

    clock.advance(1);
    await host.idle();
    expect(attempts).toEqual([1, 2]);
    expect((await instance.status()).status).toBe("waiting");
    failures = recordsOf(await instance.history(), "step.attempt_failed");
    expect(failures).toHaveLength(2);
    expect(failures[1]!.data).toMatchObject({ attempt: 2, error: { message: "flaky 2" } });
    expect(failures[1]!.data.retryAt! - failures[1]!.at).toBe(2000);

    clock.advance(1999);
    await host.idle();
    expect(attempts).toEqual([1, 2]);

    clock.advance(1);
    await host.idle();
    expect(attempts).toEqual([1, 2, 3]);
    const status = await instance.status();
    expect(status.status).toBe("complete");
    expect(status.value).toBe("done");
    const log = await instance.history();
    expect(recordsOf(log, "step.started").map((r) => r.data.attempt)).toEqual([1, 2, 3]);
    expect(recordsOf(log, "step.succeeded").map((r) => r.data)).toEqual([{ key: "work#1", attempt: 3, output: "ok on 3" }]);
  });

  it("a step that exhausts its retries ends with step.failed and takes the machine's onError path", async () => {
    const attempts: number[] = [];
    const def = singleStepWorkflow(
      async ({ attempt }) => {
        attempts.push(attempt);
        throw new TypeError(`always ${attempt}`);
      },
      policy,
      true,
    );
    const { host, clock } = hostFor([def]);
    const instance = await host.workflow("single").create({ id: "r2" });
    await host.idle();
    clock.advance(1000);
    await host.idle();
    clock.advance(2000);
    await host.idle();

    expect(attempts).toEqual([1, 2, 3]);
    const log = await instance.history();
    const failures = recordsOf(log, "step.attempt_failed");
    expect(failures.map((r) => r.data.attempt)).toEqual([1, 2, 3]);
    expect(failures[2]!.data.retryAt).toBeUndefined();
    expect(recordsOf(log, "step.failed").map((r) => r.data)).toEqual([{ key: "work#1", attempt: 3, error: { name: "TypeError", message: "always 3" } }]);

    const status = await instance.status();
    expect(status.status).toBe("complete");
    expect(status.value).toBe("failed");
    expect(status.output).toEqual({ error: { name: "TypeError", message: "always 3" } });

    // Nothing more happens later.
    clock.advance(60_000);
    await host.idle();
    expect(attempts).toEqual([1, 2, 3]);
  });

  it("without onError, an exhausted step leaves the instance errored with { name, message }", async () => {
    const def = singleStepWorkflow(
      async () => {
        throw new RangeError("out of range");
      },
      { retries: { limit: 1, delay: 10, backoff: "constant" } },
      false,
    );
    const { host, clock } = hostFor([def]);
    const instance = await host.workflow("single").create({ id: "r3" });
    await host.idle();
    clock.advance(10);
    await host.idle();

    const status = await instance.status();
    expect(status.status).toBe("errored");
    expect(status.error).toEqual({ name: "RangeError", message: "out of range" });
    expect(status.output).toBeUndefined();
    const log = await instance.history();
    expect(typesOf(log).slice(-3)).toEqual(["step.attempt_failed", "step.failed", "instance.errored"]);
  });

  it("a NonRetryableError fails the step after one attempt, whatever the retry limit", async () => {
    const attempts: number[] = [];
    const def = singleStepWorkflow(
      async ({ attempt }) => {
        attempts.push(attempt);
        throw new NonRetryableError("card declined");
      },
      { retries: { limit: 5, delay: 10, backoff: "constant" } },
      true,
    );
    const { host, clock } = hostFor([def]);
    const instance = await host.workflow("single").create({ id: "nr" });
    await host.idle();
    clock.advance(10_000);
    await host.idle();

    expect(attempts).toEqual([1]);
    const log = await instance.history();
    expect(recordsOf(log, "step.attempt_failed")[0]!.data.retryAt).toBeUndefined();
    expect(recordsOf(log, "step.failed").map((r) => r.data.error)).toEqual([{ name: "NonRetryableError", message: "card declined" }]);
    expect(await instance.status()).toMatchObject({ status: "complete", value: "failed" });
  });

  it("a step timeout fails the attempt with WorkflowTimeoutError and aborts the body's signal", async () => {
    const signals: AbortSignal[] = [];
    const def = singleStepWorkflow(
      async ({ signal }) => {
        signals.push(signal);
        await untilAborted(signal);
      },
      { timeout: 100, retries: { limit: 0, delay: 0 } },
      true,
    );
    const { host, clock } = hostFor([def]);
    const instance = await host.workflow("single").create({ id: "to" });
    await flush();
    expect(signals).toHaveLength(1);

    clock.advance(99);
    await flush();
    expect(signals[0]!.aborted).toBe(false);
    expect((await instance.status()).status).toBe("running");

    clock.advance(1);
    await host.idle();
    expect(signals[0]!.aborted).toBe(true);
    const log = await instance.history();
    const failure = recordsOf(log, "step.attempt_failed")[0]!;
    expect(failure.data.error.name).toBe("WorkflowTimeoutError");
    expect(failure.at).toBe(100);
    expect(recordsOf(log, "step.failed")[0]!.data.error.name).toBe("WorkflowTimeoutError");
    expect(await instance.status()).toMatchObject({ status: "complete", value: "failed" });
  });
});

// ---------------------------------------------------------------- timers and events

function approvalWorkflow() {
  const machine = setup({
    types: { context: {} as { by: unknown } },
  }).createMachine({
    id: "approval",
    context: { by: null },
    initial: "waiting",
    states: {
      waiting: {
        after: { 5000: "timedOut" },
        on: { approve: { target: "approved", actions: assign({ by: ({ event }) => (event as { payload?: unknown }).payload ?? null }) } },
      },
      approved: { type: "final" },
      timedOut: { type: "final" },
    },
    output: ({ context }) => ({ by: context.by }) as never,
  });
  return defineWorkflow({ name: "approval", machine });
}

describe("memory host: timers", () => {
  it("an after timer fires when the clock reaches it", async () => {
    const { host, clock } = hostFor([approvalWorkflow()]);
    const instance = await host.workflow("approval").create({ id: "t1" });
    expect((await instance.status()).status).toBe("waiting");
    const started = recordsOf(await instance.history(), "timer.started");
    expect(started).toHaveLength(1);
    expect(started[0]!.data.dueAt).toBe(5000);

    clock.advance(4999);
    expect((await instance.status()).value).toBe("waiting");

    clock.advance(1);
    const status = await instance.status();
    expect(status).toMatchObject({ status: "complete", value: "timedOut" });
    const fired = recordsOf(await instance.history(), "timer.fired");
    expect(fired.map((r) => [r.data.id, r.at])).toEqual([[started[0]!.data.id, 5000]]);
  });

  it("an event that arrives first cancels the timer", async () => {
    const { host, clock } = hostFor([approvalWorkflow()]);
    const instance = await host.workflow("approval").create({ id: "t2" });
    clock.advance(100);
    await instance.sendEvent({ type: "approve", payload: "ann" });

    expect(await instance.status()).toMatchObject({ status: "complete", value: "approved", output: { by: "ann" } });
    const log = await instance.history();
    const timerId = recordsOf(log, "timer.started")[0]!.data.id;
    expect(recordsOf(log, "timer.cancelled").map((r) => r.data.id)).toEqual([timerId]);
    expect(typesOf(log)).toEqual(["instance.created", "timer.started", "event.received", "timer.cancelled", "instance.completed"]);

    clock.advance(10_000);
    expect(recordsOf(await instance.history(), "timer.fired")).toEqual([]);
    expect((await instance.status()).value).toBe("approved");
  });
});

describe("memory host: leaving a step's state", () => {
  it("an event that leaves the state aborts its running step, and the step's late result is ignored", async () => {
    const signals: AbortSignal[] = [];
    const gate = deferred();
    const machine = setup({
      actors: {
        work: step(async ({ signal }) => {
          signals.push(signal);
          await gate.promise;
          return "late";
        }),
      },
    }).createMachine({
      id: "leaving",
      initial: "working",
      states: {
        working: { invoke: { id: "work", src: "work", onDone: "done" }, on: { cancel: "cancelled" } },
        done: { type: "final" },
        cancelled: { type: "final" },
      },
    });
    const { host } = hostFor([defineWorkflow({ name: "leaving", machine })]);
    const instance = await host.workflow("leaving").create({ id: "lv" });
    await flush();
    expect(signals).toHaveLength(1);

    await instance.sendEvent({ type: "cancel" });
    expect(signals[0]!.aborted).toBe(true);
    gate.resolve();
    await host.idle();
    await flush();
    expect(await instance.status()).toMatchObject({ status: "complete", value: "cancelled" });
    const log = await instance.history();
    expect(recordsOf(log, "step.succeeded")).toEqual([]);
    expect(recordsOf(log, "step.attempt_failed")).toEqual([]);
    expect(typesOf(log)).toEqual(["instance.created", "step.started", "event.received", "instance.completed"]);
  });
});

describe("memory host: events", () => {
  /** Takes two `item` events, but only after its step finished; the step is held open by the test. */
  function collectorWorkflow(gate: Promise<void>) {
    const machine = setup({
      types: { context: {} as { items: unknown[] } },
      actors: { prepare: step(async () => gate) },
    }).createMachine({
      id: "collector",
      context: { items: [] },
      initial: "preparing",
      states: {
        preparing: { invoke: { id: "prepare", src: "prepare", onDone: "first" } },
        first: { on: { item: { target: "second", actions: assign({ items: ({ context, event }) => [...context.items, (event as { payload?: unknown }).payload] }) } } },
        second: { on: { item: { target: "done", actions: assign({ items: ({ context, event }) => [...context.items, (event as { payload?: unknown }).payload] }) } } },
        done: { type: "final" },
      },
      output: ({ context }) => ({ items: context.items }) as never,
    });
    return defineWorkflow({ name: "collector", machine });
  }

  it("keeps an event no state accepts yet and delivers it, first in first out, once one does", async () => {
    const gate = deferred();
    const { host } = hostFor([collectorWorkflow(gate.promise)]);
    const instance = await host.workflow("collector").create({ id: "e1" });
    await instance.sendEvent({ type: "item", payload: "one" });
    await instance.sendEvent({ type: "item", payload: "two" });
    expect((await instance.status()).value).toBe("preparing");
    expect(recordsOf(await instance.history(), "event.received").map((r) => r.data.payload)).toEqual(["one", "two"]);

    gate.resolve();
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", value: "done", output: { items: ["one", "two"] } });
  });

  it("the kept events survive a crash", async () => {
    const gate = deferred();
    const { host } = hostFor([collectorWorkflow(gate.promise)]);
    const instance = await host.workflow("collector").create({ id: "e2" });
    await instance.sendEvent({ type: "item", payload: 1 });
    await instance.sendEvent({ type: "item", payload: 2 });
    host.crash();
    gate.resolve();
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: { items: [1, 2] } });
  });

  it("the same idempotencyKey twice appends one event.received", async () => {
    const { host } = hostFor([approvalWorkflow()]);
    const instance = await host.workflow("approval").create({ id: "e3" });
    await instance.sendEvent({ type: "noise", payload: 1, idempotencyKey: "k" });
    await instance.sendEvent({ type: "noise", payload: 2, idempotencyKey: "k" });
    await instance.sendEvent({ type: "noise", payload: 3, idempotencyKey: "other" });
    const received = recordsOf(await instance.history(), "event.received");
    expect(received.map((r) => r.data)).toEqual([
      { type: "noise", payload: 1, idempotencyKey: "k" },
      { type: "noise", payload: 3, idempotencyKey: "other" },
    ]);
  });

  it("an idempotencyKey is still remembered after a crash", async () => {
    const { host } = hostFor([approvalWorkflow()]);
    const instance = await host.workflow("approval").create({ id: "e4" });
    await instance.sendEvent({ type: "noise", idempotencyKey: "k" });
    host.crash();
    const before = await instance.history();
    await instance.sendEvent({ type: "noise", idempotencyKey: "k" });
    expect(await instance.history()).toEqual(before);
  });
});

// ---------------------------------------------------------------- pause, resume, terminate

describe("memory host: pause and resume", () => {
  it("a step that finishes during the pause keeps its result; the machine moves only on resume", async () => {
    const gate = deferred();
    const calls: Record<string, number> = {};
    const { host } = hostFor([sequentialWorkflow(calls, { a: gate.promise })]);
    const instance = await host.workflow("seq").create({ id: "p1", params: { start: 0 } });
    await flush();
    expect((await instance.status()).status).toBe("running");

    await instance.pause();
    expect(await instance.status()).toMatchObject({ status: "waitingForPause", value: "a" });

    gate.resolve();
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "paused", value: "a" });
    const log = await instance.history();
    expect(recordsOf(log, "step.succeeded").map((r) => r.data)).toEqual([{ key: "a#1", attempt: 1, output: 1 }]);
    expect(recordsOf(log, "step.started").map((r) => r.data.key)).toEqual(["a#1"]);
    expect(calls).toEqual({ a: 1 });

    await instance.resume();
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: { total: 111, trail: ["a", "b", "c"] } });
    expect(calls).toEqual({ a: 1, b: 1, c: 1 });
    expect(typesOf(await instance.history()).slice(0, 5)).toEqual(["instance.created", "step.started", "instance.paused", "step.succeeded", "instance.resumed"]);
  });

  it("a paused instance with no step running is paused; an event sent meanwhile waits for resume", async () => {
    const { host } = hostFor([approvalWorkflow()]);
    const instance = await host.workflow("approval").create({ id: "p2" });
    await instance.pause();
    expect((await instance.status()).status).toBe("paused");
    await instance.sendEvent({ type: "approve", payload: "bob" });
    expect(await instance.status()).toMatchObject({ status: "paused", value: "waiting" });
    await instance.resume();
    expect(await instance.status()).toMatchObject({ status: "complete", value: "approved", output: { by: "bob" } });
  });

  it("a timer due during the pause fires only after resume, shifted by the time paused", async () => {
    const { host, clock } = hostFor([approvalWorkflow()]);
    const instance = await host.workflow("approval").create({ id: "p3" });
    clock.advance(400);
    await instance.pause();
    clock.advance(2000); // t = 2400: the timer (due at 5000) is not yet due; keep going past it
    clock.advance(4000); // t = 6400
    expect(await instance.status()).toMatchObject({ status: "paused", value: "waiting" });
    expect(recordsOf(await instance.history(), "timer.fired")).toEqual([]);

    await instance.resume(); // paused for 6000 ms: due at 11000
    expect((await instance.status()).status).toBe("waiting");
    clock.advance(4599);
    expect((await instance.status()).value).toBe("waiting");
    clock.advance(1);
    expect(await instance.status()).toMatchObject({ status: "complete", value: "timedOut" });
    expect(recordsOf(await instance.history(), "timer.fired")[0]!.at).toBe(11_000);
  });

  it("a retry due during the pause waits for resume, shifted by the time paused", async () => {
    const attempts: number[] = [];
    const def = singleStepWorkflow(
      async ({ attempt }) => {
        attempts.push(attempt);
        if (attempt === 1) throw new Error("once");
        return "ok";
      },
      { retries: { limit: 1, delay: 1000, backoff: "constant" } },
      true,
    );
    const { host, clock } = hostFor([def]);
    const instance = await host.workflow("single").create({ id: "p4" });
    await host.idle();
    await instance.pause();
    clock.advance(3000);
    await host.idle();
    expect(attempts).toEqual([1]);
    await instance.resume(); // retry was due at 1000; paused 3000 ms: due at 4000
    clock.advance(999);
    await host.idle();
    expect(attempts).toEqual([1]);
    clock.advance(1);
    await host.idle();
    expect(attempts).toEqual([1, 2]);
    expect((await instance.status()).status).toBe("complete");
  });

  it("a retry scheduled during the pause counts its delay from resume", async () => {
    const attempts: number[] = [];
    const first = deferred();
    const def = singleStepWorkflow(
      async ({ attempt }) => {
        attempts.push(attempt);
        if (attempt === 1) {
          await first.promise;
          throw new Error("once");
        }
        return "ok";
      },
      { retries: { limit: 1, delay: 1000, backoff: "constant" } },
      true,
    );
    const { host, clock } = hostFor([def]);
    const instance = await host.workflow("single").create({ id: "p5" });
    await flush();
    await instance.pause();
    clock.advance(9000);
    first.resolve();
    await host.idle(); // attempt 1 fails at 9000, during the pause
    clock.advance(1000);
    await instance.resume(); // at 10000: the retry is due 1000 ms later, not 1000 ms plus the whole pause
    clock.advance(999);
    await host.idle();
    expect(attempts).toEqual([1]);
    clock.advance(1);
    await host.idle();
    expect(attempts).toEqual([1, 2]);
    expect((await instance.status()).status).toBe("complete");
  });

  it("a step result kept during the pause survives a crash and is not run again", async () => {
    const gate = deferred();
    const calls: Record<string, number> = {};
    const { host } = hostFor([sequentialWorkflow(calls, { a: gate.promise })]);
    const instance = await host.workflow("seq").create({ id: "p5", params: { start: 0 } });
    await flush();
    await instance.pause();
    gate.resolve();
    await host.idle();
    host.crash();
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "paused", value: "a" });
    await instance.resume();
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: { total: 111 } });
    expect(calls).toEqual({ a: 1, b: 1, c: 1 });
  });

  it("resume() on an instance that is not paused throws instance.cannot_resume and writes nothing", async () => {
    const gate = deferred();
    const { host } = hostFor([sequentialWorkflow({}, { a: gate.promise })]);
    const instance = await host.workflow("seq").create({ id: "p6", params: { start: 0 } });
    await flush();
    const before = await instance.history();
    const error = await refusal(() => instance.resume());
    expect(error).toBeInstanceOf(InvalidOperationError);
    expect(error.code).toBe("instance.cannot_resume");
    expect(await instance.history()).toEqual(before);
    gate.resolve();
    await host.idle();
    expect((await refusal(() => instance.resume())).code).toBe("instance.cannot_resume");
  });

  it("pause() twice writes one instance.paused", async () => {
    const { host } = hostFor([approvalWorkflow()]);
    const instance = await host.workflow("approval").create({ id: "p7" });
    await instance.pause();
    await instance.pause();
    expect(recordsOf(await instance.history(), "instance.paused")).toHaveLength(1);
  });
});

describe("memory host: terminate", () => {
  it("terminates a running instance, aborting its step's signal; a second terminate is refused", async () => {
    const signals: AbortSignal[] = [];
    let finished = 0;
    const def = singleStepWorkflow(
      async ({ signal }) => {
        signals.push(signal);
        await untilAborted(signal);
        finished++;
      },
      {},
      true,
    );
    const { host, clock } = hostFor([def]);
    const instance = await host.workflow("single").create({ id: "k1" });
    await flush();
    expect(signals).toHaveLength(1);

    await instance.terminate();
    expect(signals[0]!.aborted).toBe(true);
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "terminated", value: "working" });
    const log = await instance.history();
    expect(typesOf(log)).toEqual(["instance.created", "step.started", "instance.terminated"]);

    clock.advance(60 * 60_000);
    await host.idle();
    expect(await instance.history()).toEqual(log);
    expect(finished).toBe(0);

    const error = await refusal(() => instance.terminate());
    expect(error).toBeInstanceOf(InvalidOperationError);
    expect(error.code).toBe("instance.cannot_terminate");
    expect(await instance.history()).toEqual(log);
  });

  it("terminate cancels pending timers and keeps the instance terminated across a crash", async () => {
    const { host, clock } = hostFor([approvalWorkflow()]);
    const instance = await host.workflow("approval").create({ id: "k2" });
    await instance.terminate();
    host.crash();
    clock.advance(10_000);
    expect(await instance.status()).toMatchObject({ status: "terminated", value: "waiting" });
    expect(recordsOf(await instance.history(), "timer.fired")).toEqual([]);
    expect((await refusal(() => instance.terminate())).code).toBe("instance.cannot_terminate");
  });
});

// ---------------------------------------------------------------- restart

describe("memory host: restart", () => {
  it("restart() runs the workflow from the start again; history keeps the first run", async () => {
    const calls: Record<string, number> = {};
    const { host } = hostFor([sequentialWorkflow(calls)]);
    const instance = await host.workflow("seq").create({ id: "rs1", params: { start: 1 } });
    await host.idle();
    const firstRun = await instance.history();
    expect((await instance.status()).status).toBe("complete");

    await instance.restart();
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: { total: 112, trail: ["a", "b", "c"] } });
    expect(calls).toEqual({ a: 2, b: 2, c: 2 });

    const log = await instance.history();
    expect(log.slice(0, firstRun.length)).toEqual(firstRun);
    expect(log[firstRun.length]!.type).toBe("instance.restarted");
    expect(log.map((r) => r.seq)).toEqual(log.map((_, i) => i + 1));
    expect(recordsOf(log, "step.succeeded").map((r) => r.data.key)).toEqual(["a#1", "b#1", "c#1", "a#2", "b#2", "c#2"]);
    expect(recordsOf(log, "instance.completed")).toHaveLength(2);
  });

  it("restart() hands the machine its params again, whole: a context that keeps the params object still works", async () => {
    const machine = setup({
      types: { context: {} as { params: { items: string[] } }, input: {} as { items: string[] } },
      actors: { count: step(async ({ input }: StepArgs<{ items: string[] }>) => input.items.length) },
    }).createMachine({
      id: "keeps",
      context: ({ input }) => ({ params: input }),
      initial: "counting",
      states: { counting: { invoke: { src: "count", input: ({ context }) => context.params, onDone: "done" } }, done: { type: "final" } },
      output: ({ context }) => context.params,
    });
    const { host } = hostFor([defineWorkflow({ name: "keeps", machine })]);
    const instance = await host.workflow("keeps").create({ id: "keeps-1", params: { items: ["x", "y"] } });
    await host.idle();
    await instance.restart();
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: { items: ["x", "y"] } });
  });

  it("restart({ from }) keeps the steps before that key and runs the rest again", async () => {
    const calls: Record<string, number> = {};
    const { host } = hostFor([sequentialWorkflow(calls)]);
    const instance = await host.workflow("seq").create({ id: "rs2", params: { start: 1 } });
    await host.idle();
    const firstRun = await instance.history();

    await instance.restart({ from: "b#1" });
    await host.idle();
    expect(calls).toEqual({ a: 1, b: 2, c: 2 });
    expect(await instance.status()).toMatchObject({ status: "complete", output: { total: 112, trail: ["a", "b", "c"] } });
    const log = await instance.history();
    expect(log.slice(0, firstRun.length)).toEqual(firstRun);
    expect(log[firstRun.length]!.type).toBe("instance.restarted");
    expect(recordsOf(log, "step.started").slice(3).map((r) => r.data.key)).toEqual(["b#2", "c#2"]);
  });

  it("restart({ from }) on a key history does not show is refused", async () => {
    const { host } = hostFor([sequentialWorkflow()]);
    const instance = await host.workflow("seq").create({ id: "rs3", params: { start: 1 } });
    await host.idle();
    const before = await instance.history();
    const error = await refusal(() => instance.restart({ from: "zzz#1" }));
    expect(error.code).toBe("instance.cannot_restart");
    expect(await instance.history()).toEqual(before);
  });

  it("restart() of a running instance aborts its running step and ignores its late result", async () => {
    const calls: Record<string, number> = {};
    const gate = deferred();
    const { host } = hostFor([sequentialWorkflow(calls, { b: gate.promise })]);
    const instance = await host.workflow("seq").create({ id: "rs4", params: { start: 0 } });
    await flush();
    expect(calls).toEqual({ a: 1, b: 1 });
    await instance.restart();
    gate.resolve();
    await host.idle();
    expect(calls).toEqual({ a: 2, b: 2, c: 1 });
    const log = await instance.history();
    expect(recordsOf(log, "step.succeeded").map((r) => r.data.key)).toEqual(["a#1", "a#2", "b#2", "c#1"]);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { total: 111 } });
  });
});

// ---------------------------------------------------------------- crash and recovery

describe("memory host: crash and recovery", () => {
  it("a crash in the middle of a step re-runs that step only, and the output is the same", async () => {
    const calls: Record<string, number> = {};
    const bStarted = deferred();
    const attemptsOfB: number[] = [];
    const machine = setup({
      types: { context: {} as { total: number } },
      actors: {
        a: step(async ({ input }: { input: number }) => {
          calls.a = (calls.a ?? 0) + 1;
          return input + 1;
        }),
        b: step(async ({ input, attempt, signal }: { input: number; attempt: number; signal: AbortSignal }) => {
          calls.b = (calls.b ?? 0) + 1;
          attemptsOfB.push(attempt);
          if (attempt === 1) {
            bStarted.resolve();
            await untilAborted(signal);
          }
          return input * 10;
        }),
      },
    }).createMachine({
      id: "crashy",
      context: { total: 4 },
      initial: "a",
      states: {
        a: { invoke: { id: "a", src: "a", input: ({ context }) => context.total, onDone: { target: "b", actions: assign({ total: ({ event }) => event.output }) } } },
        b: { invoke: { id: "b", src: "b", input: ({ context }) => context.total, onDone: { target: "done", actions: assign({ total: ({ event }) => event.output }) } } },
        done: { type: "final" },
      },
      output: ({ context }) => context.total,
    });
    const { host } = hostFor([defineWorkflow({ name: "crashy", machine })]);
    const instance = await host.workflow("crashy").create({ id: "c1" });
    await bStarted.promise;
    expect(calls).toEqual({ a: 1, b: 1 });

    host.crash();
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: 50 });
    expect(calls).toEqual({ a: 1, b: 2 });
    expect(attemptsOfB).toEqual([1, 2]);
    const log = await instance.history();
    expect(recordsOf(log, "step.started").map((r) => [r.data.key, r.data.attempt])).toEqual([
      ["a#1", 1],
      ["b#1", 1],
      ["b#1", 2],
    ]);
    expect(recordsOf(log, "step.succeeded").map((r) => r.data.key)).toEqual(["a#1", "b#1"]);
  });

  it("a crash between one step's result and the next step runs nothing twice", async () => {
    const calls: Record<string, number> = {};
    const machine = setup({
      types: { context: {} as { got: unknown[] } },
      actors: {
        a: step(async () => {
          calls.a = (calls.a ?? 0) + 1;
          return "A";
        }),
        b: step(async () => {
          calls.b = (calls.b ?? 0) + 1;
          return "B";
        }),
      },
    }).createMachine({
      id: "gap",
      context: { got: [] },
      initial: "a",
      states: {
        a: { invoke: { id: "a", src: "a", onDone: { target: "pause", actions: assign({ got: ({ context, event }) => [...context.got, event.output] }) } } },
        pause: { after: { 1000: "b" } },
        b: { invoke: { id: "b", src: "b", onDone: { target: "done", actions: assign({ got: ({ context, event }) => [...context.got, event.output] }) } } },
        done: { type: "final" },
      },
      output: ({ context }) => ({ got: context.got }) as never,
    });
    const { host, clock } = hostFor([defineWorkflow({ name: "gap", machine })]);
    const instance = await host.workflow("gap").create({ id: "c2" });
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "waiting", value: "pause" });

    host.crash();
    await host.idle();
    host.crash();
    await host.idle();
    expect(calls).toEqual({ a: 1 });
    expect(await instance.status()).toMatchObject({ status: "waiting", value: "pause" });

    clock.advance(1000);
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: { got: ["A", "B"] } });
    expect(calls).toEqual({ a: 1, b: 1 });

    host.crash();
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: { got: ["A", "B"] } });
    expect(calls).toEqual({ a: 1, b: 1 });
  });

  it("a crash during a retry's backoff does not cost or add an attempt", async () => {
    const attempts: number[] = [];
    const def = singleStepWorkflow(
      async ({ attempt }) => {
        attempts.push(attempt);
        if (attempt === 1) throw new Error("once");
        return "ok";
      },
      { retries: { limit: 1, delay: 1000, backoff: "constant" } },
      true,
    );
    const { host, clock } = hostFor([def]);
    const instance = await host.workflow("single").create({ id: "c3" });
    await host.idle();
    host.crash();
    await host.idle();
    expect(attempts).toEqual([1]);
    expect((await instance.status()).status).toBe("waiting");
    clock.advance(1000);
    await host.idle();
    expect(attempts).toEqual([1, 2]);
    expect(await instance.status()).toMatchObject({ status: "complete", value: "done" });
  });

  it("a crash mid-attempt costs no retry: a step with no retries left still runs again", async () => {
    const started = deferred();
    const attempts: number[] = [];
    const def = singleStepWorkflow(
      async ({ attempt, signal }) => {
        attempts.push(attempt);
        if (attempt === 1) {
          started.resolve();
          await untilAborted(signal);
        }
        return "ok";
      },
      { retries: { limit: 0, delay: 0 } },
      true,
    );
    const { host } = hostFor([def]);
    const instance = await host.workflow("single").create({ id: "c5" });
    await started.promise;
    host.crash();
    await host.idle();
    expect(attempts).toEqual([1, 2]);
    expect(await instance.status()).toMatchObject({ status: "complete", value: "done" });
    expect(recordsOf(await instance.history(), "step.attempt_failed")).toEqual([]);
  });

  it("a custom action runs once live and never again on recovery", async () => {
    const notes: unknown[] = [];
    const machine = setup({
      actors: { a: step(async () => "done-a") },
      actions: { note: (_, params: { what: string }) => void notes.push(params.what) },
    }).createMachine({
      id: "acting",
      entry: { type: "note", params: { what: "start" } },
      initial: "a",
      states: {
        a: { invoke: { id: "a", src: "a", onDone: { target: "wait", actions: { type: "note", params: { what: "a done" } } } } },
        wait: { on: { go: { target: "done", actions: { type: "note", params: { what: "go" } } } } },
        done: { type: "final" },
      },
    });
    const { host } = hostFor([defineWorkflow({ name: "acting", machine })]);
    const instance = await host.workflow("acting").create({ id: "c4" });
    await host.idle();
    expect(notes).toEqual(["start", "a done"]);

    host.crash();
    await host.idle();
    expect(notes).toEqual(["start", "a done"]);

    await instance.sendEvent({ type: "go" });
    expect(notes).toEqual(["start", "a done", "go"]);
    host.crash();
    await host.idle();
    expect((await instance.status()).status).toBe("complete");
    expect(notes).toEqual(["start", "a done", "go"]);
  });

  it("dropping every snapshot and crashing changes no answer", async () => {
    const gate = deferred();
    const { host, clock } = hostFor([sequentialWorkflow({}, { c: gate.promise }), approvalWorkflow()], { snapshotEvery: 1 });
    const seq = await host.workflow("seq").create({ id: "sn1", params: { start: 2 } });
    const approval = await host.workflow("approval").create({ id: "sn2" });
    await flush();
    await flush();
    clock.advance(1000);
    expect(host.storage.snapshots("seq", "sn1").length).toBeGreaterThan(0);

    const answers = async (handles: InstanceHandle[]) => Promise.all(handles.map((h) => h.status()));
    const midway = await answers([seq, approval]);
    expect(midway.map((s) => [s.status, s.value])).toEqual([
      ["running", "c"],
      ["waiting", "waiting"],
    ]);

    host.storage.dropSnapshots();
    host.crash();
    expect(await answers([seq, approval])).toEqual(midway);

    gate.resolve();
    await host.idle();
    clock.advance(4000);
    const finished = await answers([seq, approval]);
    expect(finished.map((s) => [s.status, s.output])).toEqual([
      ["complete", { total: 113, trail: ["a", "b", "c"] }],
      ["complete", { by: null }],
    ]);
    expect(host.storage.snapshots("seq", "sn1").length).toBeGreaterThan(0);

    host.storage.dropSnapshots();
    host.crash();
    expect(await answers([seq, approval])).toEqual(finished);
  });
});

// ---------------------------------------------------------------- listing and batches

describe("memory host: history pages", () => {
  it("history({ after, limit }) returns that window of the log", async () => {
    const { host } = hostFor([sequentialWorkflow()]);
    const instance = await host.workflow("seq").create({ id: "h1", params: { start: 0 } });
    await host.idle();
    const all = await instance.history();
    expect(all).toHaveLength(8);
    expect((await instance.history({ after: 2, limit: 3 })).map((r) => r.seq)).toEqual([3, 4, 5]);
    expect((await instance.history({ after: 6 })).map((r) => r.seq)).toEqual([7, 8]);
    expect(await instance.history({ after: 8 })).toEqual([]);
  });
});

describe("memory host: list and createBatch", () => {
  it("list({ status }) filters by status", async () => {
    const { host } = hostFor([approvalWorkflow()]);
    const client = host.workflow("approval");
    await client.create({ id: "l1" });
    const done = await client.create({ id: "l2" });
    await client.create({ id: "l3" });
    await done.sendEvent({ type: "approve" });
    const paused = await client.get("l3");
    await paused.pause();

    const all = await client.list({ order: "oldest" });
    expect(all.instances.map((i) => [i.id, i.status])).toEqual([
      ["l1", "waiting"],
      ["l2", "complete"],
      ["l3", "paused"],
    ]);
    expect((await client.list({ status: "complete" })).instances.map((i) => i.id)).toEqual(["l2"]);
    expect((await client.list({ status: "waiting" })).instances.map((i) => i.id)).toEqual(["l1"]);
    expect((await client.list({ status: "paused" })).instances.map((i) => i.id)).toEqual(["l3"]);
    expect((await client.list({ status: "errored" })).instances).toEqual([]);
  });

  it("createBatch creates the valid instances and reports each refusal by index", async () => {
    const { host } = hostFor([approvalWorkflow()]);
    const client = host.workflow("approval");
    await client.create({ id: "exists" });
    const result = await client.createBatch({
      instances: [{ id: "b1" }, { id: "exists" }, { id: "bad id" }, { id: "b2" }, { id: "b1" }, { id: "-x" }],
    });
    expect(result.created.map((h) => h.id)).toEqual(["b1", "b2"]);
    expect(result.errors.map(({ index, id, code }) => ({ index, id, code }))).toEqual([
      { index: 1, id: "exists", code: "instance.already_exists" },
      { index: 2, id: "bad id", code: "instance.invalid_id" },
      { index: 4, id: "b1", code: "instance.duplicate_in_batch" },
      { index: 5, id: "-x", code: "instance.invalid_id" },
    ]);
    for (const error of result.errors) expect(error.message.length).toBeGreaterThan(0);
    expect((await client.list({ order: "oldest" })).instances.map((i) => i.id)).toEqual(["b1", "b2", "exists"]);
    expect((await (await client.get("b2")).status()).status).toBe("waiting");
  });

  it("createBatch reports an entry that is not an object (as untyped JSON can send) and still creates the rest", async () => {
    const { host } = hostFor([approvalWorkflow()]);
    const client = host.workflow("approval");
    const result = await client.createBatch({ instances: [{ id: "first" }, null as never, { id: null } as never, { id: "third" }] });
    expect(result.created.map((h) => h.id)).toEqual(["first", "third"]);
    expect(result.errors.map(({ index, code }) => ({ index, code }))).toEqual([
      { index: 1, code: "request.invalid" },
      { index: 2, code: "instance.invalid_id" },
    ]);
  });

  it("reading a missing instance's storage does not make it exist", async () => {
    const { host } = hostFor([approvalWorkflow()]);
    expect(host.storage.store("approval", "ghost").read()).toEqual([]);
    expect(host.storage.has("approval", "ghost")).toBe(false);
    const error = await refusal(() => host.workflow("approval").get("ghost"));
    expect(error.code).toBe("instance.not_found");
    host.crash();
  });
});
