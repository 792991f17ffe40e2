import { describe, expect, it } from "vitest";
import { assign, raise, setup } from "xstate";
import {
  createManualClock,
  createMemoryHost,
  dagTasks,
  defineDag,
  defineWorkflow,
  DurableMachinesError,
  step,
  WorkflowEntrypoint,
  type LogRecord,
  type WorkflowEvent,
  type WorkflowStep,
} from "../../index";

/**
 * Keys and names that are also names on Object.prototype. The engine keeps
 * tables keyed by what users choose (idempotency keys, invoke and timer ids,
 * step keys, DAG task names); a plain object answers these names from its
 * prototype, and `table["__proto__"] = x` replaces the prototype instead of
 * storing x.
 */
const PROTOTYPE_NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf", "__defineGetter__"];

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function settle(host: { idle(): Promise<void> }) {
  for (let i = 0; i < 5; i++) {
    await flush();
    await host.idle();
  }
}

const received = (log: readonly LogRecord[]) => log.flatMap((r) => (r.type === "event.received" ? [r.data.idempotencyKey] : []));

/** Counts `tick` events; complete at three. */
function ticker() {
  const machine = setup({ types: { context: {} as { ticks: number } } }).createMachine({
    id: "ticker",
    context: { ticks: 0 },
    initial: "counting",
    states: {
      counting: {
        on: { tick: { actions: assign({ ticks: ({ context }) => context.ticks + 1 }) } },
        always: { guard: ({ context }) => context.ticks === 3, target: "done" },
      },
      done: { type: "final" },
    },
    output: ({ context }) => context.ticks,
  });
  return defineWorkflow({ name: "ticker", machine });
}

class TwoTicks extends WorkflowEntrypoint {
  async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
    const first = await step.waitForEvent<string>("first", { type: "tick" });
    const second = await step.waitForEvent<string>("second", { type: "tick" });
    return [first.payload, second.payload];
  }
}

describe("idempotency keys named like Object.prototype's properties", () => {
  it.each(PROTOTYPE_NAMES)("machine: an event keyed %j is recorded once, a repeat is ignored, and a crash keeps both facts", async (key) => {
    const storage = createMemoryHost({ workflows: [ticker()] }).storage;
    const host = createMemoryHost({ workflows: [ticker()], clock: createManualClock(), storage, snapshotEvery: 1 });
    const instance = await host.workflow("ticker").create({ id: "t" });
    await instance.sendEvent({ type: "tick", idempotencyKey: key });
    await instance.sendEvent({ type: "tick", idempotencyKey: key });
    expect(received(await instance.history())).toEqual([key]);
    expect((await instance.status()).status).toBe("waiting");
    host.crash();
    // After a crash the instance is rebuilt from its snapshot (written after every input): the key must survive JSON.
    await instance.sendEvent({ type: "tick", idempotencyKey: key });
    await instance.sendEvent({ type: "tick", idempotencyKey: "other" });
    await instance.sendEvent({ type: "tick", idempotencyKey: `${key}-2` });
    expect(received(await instance.history())).toEqual([key, "other", `${key}-2`]);
    expect(await instance.status()).toMatchObject({ status: "complete", output: 3 });
  });

  it.each(PROTOTYPE_NAMES)("code-first: an event keyed %j is recorded once, a repeat is ignored, and a crash keeps both facts", async (key) => {
    const host = createMemoryHost({ workflows: [defineWorkflow({ name: "ticks", entrypoint: TwoTicks })], clock: createManualClock() });
    const instance = await host.workflow("ticks").create({ id: "t" });
    await settle(host);
    await instance.sendEvent({ type: "tick", payload: "a", idempotencyKey: key });
    await instance.sendEvent({ type: "tick", payload: "b", idempotencyKey: key });
    await settle(host);
    expect(received(await instance.history())).toEqual([key]);
    host.crash();
    await settle(host);
    await instance.sendEvent({ type: "tick", payload: "c", idempotencyKey: key });
    await instance.sendEvent({ type: "tick", payload: "d", idempotencyKey: "other" });
    await settle(host);
    expect(received(await instance.history())).toEqual([key, "other"]);
    expect(await instance.status()).toMatchObject({ status: "complete", output: ["a", "d"] });
  });
});

describe("machine timers and invokes whose ids are Object.prototype's names", () => {
  /** Raises `ring` after a second under the given timer id, twice, so the id's generation counter is read back. */
  function bell(sendId: string) {
    const machine = setup({ types: { context: {} as { rings: number } } }).createMachine({
      id: "bell",
      context: { rings: 0 },
      initial: "armed",
      states: {
        armed: {
          entry: raise({ type: "ring" }, { delay: 1000, id: sendId }),
          on: { ring: { target: "rung", actions: assign({ rings: ({ context }) => context.rings + 1 }) } },
        },
        rung: { always: [{ guard: ({ context }) => context.rings < 2, target: "armed" }, { target: "done" }] },
        done: { type: "final" },
      },
      output: ({ context }) => context.rings,
    });
    return defineWorkflow({ name: "bell", machine });
  }

  it.each(PROTOTYPE_NAMES)("a delayed raise with id %j fires, and is numbered #1 then #2, across a crash", async (sendId) => {
    const clock = createManualClock();
    const host = createMemoryHost({ workflows: [bell(sendId)], clock, snapshotEvery: 1 });
    const instance = await host.workflow("bell").create({ id: "b" });
    clock.advance(1000);
    host.crash();
    clock.advance(1000);
    const log = await instance.history();
    expect(log.flatMap((r) => (r.type === "timer.started" ? [r.data.id] : []))).toEqual([`${sendId}#1`, `${sendId}#2`]);
    expect(await instance.status()).toMatchObject({ status: "complete", output: 2 });
  });

  it.each(PROTOTYPE_NAMES)("an invoke with id %j runs as step <id>#1, then <id>#2 when its state is entered again", async (invokeId) => {
    const machine = setup({ types: { context: {} as { runs: number } }, actors: { work: step(async () => "ok") } }).createMachine({
      id: "again",
      context: { runs: 0 },
      initial: "working",
      states: {
        working: { invoke: { id: invokeId, src: "work", onDone: { target: "counted", actions: assign({ runs: ({ context }) => context.runs + 1 }) } } },
        counted: { always: [{ guard: ({ context }) => context.runs < 2, target: "working" }, { target: "done" }] },
        done: { type: "final" },
      },
      output: ({ context }) => context.runs,
    });
    const host = createMemoryHost({ workflows: [defineWorkflow({ name: "again", machine })], clock: createManualClock() });
    const instance = await host.workflow("again").create({ id: "a" });
    await host.idle();
    const log = await instance.history();
    expect(log.flatMap((r) => (r.type === "step.started" ? [r.data.key] : []))).toEqual([`${invokeId}#1`, `${invokeId}#2`]);
    expect(await instance.status()).toMatchObject({ status: "complete", output: 2 });
  });
});

describe("restart from a step key named like Object.prototype's properties", () => {
  class OneStep extends WorkflowEntrypoint {
    async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
      await step.do("only", async () => "done");
      return await step.waitForEvent("hold", { type: "go" });
    }
  }

  it.each(PROTOTYPE_NAMES)("code-first: restart({ from: %j }) is refused with instance.cannot_restart and writes nothing", async (from) => {
    const host = createMemoryHost({ workflows: [defineWorkflow({ name: "one", entrypoint: OneStep })], clock: createManualClock() });
    const instance = await host.workflow("one").create({ id: "o" });
    await settle(host);
    const before = await instance.history();
    const refusal = await instance.restart({ from }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(DurableMachinesError);
    expect((refusal as DurableMachinesError).code).toBe("instance.cannot_restart");
    expect(await instance.history()).toEqual(before);
  });
});

describe("DAG tasks named like Object.prototype's properties", () => {
  const NAMES = PROTOTYPE_NAMES.filter((name) => name !== "__proto__");

  it.each(NAMES)("a task named %j starts once what it needs is done, and its output reaches the task after it", async (name) => {
    // Typed as "middle"; at run time the task's name, and so the key of its output, is `name`.
    const middle = name as "middle";
    const def = defineDag({
      name: "named",
      tasks: dagTasks()
        .task("first", { run: () => 1 })
        .task(middle, { needs: ["first"], run: ({ first }) => first + 1 })
        .task("last", { needs: [middle], run: (needs) => (needs as Record<string, number>)[name]! + 1 }),
    });
    const host = createMemoryHost({ workflows: [def], clock: createManualClock() });
    const instance = await host.workflow("named").create({ id: "n" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { first: 1, [name]: 2, last: 3 } });
  });

  it("a task named __proto__ is refused at definition: XState cannot hold a state of that name", () => {
    let refusal: unknown;
    try {
      defineDag({ name: "proto", tasks: dagTasks().task("__proto__", { run: () => 1 }) });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DurableMachinesError);
    expect((refusal as DurableMachinesError).code).toBe("dag.invalid_task");
    expect((refusal as Error).message).toContain("__proto__");
  });
});
