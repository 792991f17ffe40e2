import { describe, expect, it } from "vitest";
import { setup } from "xstate";
import {
  createManualClock,
  createMemoryHost,
  defineWorkflow,
  DurableMachinesError,
  NonRetryableError,
  step,
  WorkflowEntrypoint,
  type LogRecord,
  type MemoryStorage,
  type WorkflowEvent,
  type WorkflowStep,
} from "../../index";
import { deleteInBatch } from "../../runtime/client";

/**
 * Values that String() and template literals cannot turn into text: they throw
 * a TypeError, which the HTTP layer answered with a 500. Each must be refused
 * with a typed error, or (thrown by a step) recorded as the step's failure.
 */
const UNPRINTABLE: [string, () => unknown][] = [
  ["an object whose toString is not a function", () => ({ toString: 1 })],
  ["an object with no prototype", () => Object.create(null)],
  ["an object whose toString and valueOf return objects", () => ({ toString: () => ({}), valueOf: () => ({}) })],
];

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function settle(host: { idle(): Promise<void> }) {
  for (let i = 0; i < 5; i++) {
    await flush();
    await host.idle();
  }
}

async function refusal(action: () => unknown): Promise<DurableMachinesError> {
  const error = await Promise.resolve()
    .then(action)
    .then(
      () => undefined,
      (caught: unknown) => caught,
    );
  expect(error).toBeInstanceOf(DurableMachinesError);
  return error as DurableMachinesError;
}

function everything(storage: MemoryStorage): Record<string, LogRecord[]> {
  return Object.fromEntries(storage.all().map(({ workflow, id }) => [`${workflow}/${id}`, storage.store(workflow, id).read()]));
}

const gate = defineWorkflow({
  name: "gate",
  machine: setup({}).createMachine({ id: "gate", initial: "closed", states: { closed: { on: { open: "opened" } }, opened: { type: "final" } } }),
});

class Gate extends WorkflowEntrypoint {
  async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
    await step.waitForEvent("open", { type: "open" });
  }
}

const codeGate = defineWorkflow({ name: "code-gate", entrypoint: Gate });

describe("deleteBatch with ids that cannot be printed", () => {
  it.each(UNPRINTABLE)("deleteInBatch reports %s as instance.invalid_id and deletes the rest", async (_, make) => {
    const removed: string[] = [];
    const result = await deleteInBatch([make(), "a"], async (id) => void removed.push(id));
    expect(removed).toEqual(["a"]);
    expect(result.deleted).toEqual([{ id: "a" }]);
    expect(result.errors).toEqual([{ id: expect.any(String), code: "instance.invalid_id", message: expect.stringContaining("is invalid") }]);
  });

  it.each(UNPRINTABLE)("on the memory host, %s among the ids deletes only the valid ones and leaves every other log as it was", async (_, make) => {
    const host = createMemoryHost({ workflows: [gate], clock: createManualClock() });
    const client = host.workflow("gate");
    await client.create({ id: "doomed" });
    await client.create({ id: "bystander" });
    const bystander = (await client.get("bystander")).history();
    const result = await client.deleteBatch([make() as string, "doomed"]);
    expect(result.deleted).toEqual([{ id: "doomed" }]);
    expect(result.errors.map(({ code }) => code)).toEqual(["instance.invalid_id"]);
    expect(Object.keys(everything(host.storage))).toEqual(["gate/bystander"]);
    expect(await (await client.get("bystander")).history()).toEqual(await bystander);
  });
});

describe("ids and names that cannot be printed", () => {
  it.each(UNPRINTABLE)("createBatch given %s twice as an id reports each entry, the repeat as instance.duplicate_in_batch", async (_, make) => {
    const host = createMemoryHost({ workflows: [gate], clock: createManualClock() });
    const id = make() as string;
    const { created, errors } = await host.workflow("gate").createBatch({ instances: [{ id }, { id }, { id: "fine" }] });
    expect(created.map((instance) => instance.id)).toEqual(["fine"]);
    expect(errors.map(({ index, code }) => ({ index, code }))).toEqual([
      { index: 0, code: "instance.invalid_id" },
      { index: 1, code: "instance.duplicate_in_batch" },
    ]);
    expect(Object.keys(everything(host.storage))).toEqual(["gate/fine"]);
  });

  it.each(UNPRINTABLE)("a workflow name that is %s is refused with workflow.not_found", async (_, make) => {
    const host = createMemoryHost({ workflows: [gate], clock: createManualClock() });
    expect((await refusal(() => host.workflow(make() as never))).code).toBe("workflow.not_found");
  });
});

describe("event types that cannot be printed", () => {
  it.each(UNPRINTABLE)("%s as an event type is refused with event.invalid by a waiting or finished instance of either kind, writing nothing", async (_, make) => {
    const host = createMemoryHost({ workflows: [gate, codeGate], clock: createManualClock() });
    const machine = await host.workflow("gate").create({ id: "m" });
    const code = await host.workflow("code-gate").create({ id: "c" });
    await settle(host);
    const finishedMachine = await host.workflow("gate").create({ id: "m-done" });
    await finishedMachine.sendEvent({ type: "open" });
    const finishedCode = await host.workflow("code-gate").create({ id: "c-done" });
    await settle(host);
    await finishedCode.sendEvent({ type: "open" });
    await settle(host);
    expect((await finishedMachine.status()).status).toBe("complete");
    expect((await finishedCode.status()).status).toBe("complete");
    const before = everything(host.storage);
    for (const instance of [machine, code, finishedMachine, finishedCode]) {
      expect((await refusal(() => instance.sendEvent({ type: make() as string }))).code).toBe("event.invalid");
      expect((await refusal(() => instance.sendEvent({ type: "open", idempotencyKey: make() as string }))).code).toBe("event.invalid");
    }
    expect(everything(host.storage)).toEqual(before);
  });
});

describe("steps that throw values that cannot be printed", () => {
  it.each(UNPRINTABLE)("a machine step that throws %s fails with that value shown, and the instance ends errored instead of hanging", async (_, make) => {
    const machine = setup({ actors: { bad: step(async () => Promise.reject(make())) } }).createMachine({
      id: "throws",
      initial: "working",
      states: { working: { invoke: { src: "bad", onDone: "done" } }, done: { type: "final" } },
    });
    const host = createMemoryHost({
      workflows: [defineWorkflow({ name: "throws", machine, steps: { bad: { retries: { limit: 0, delay: 0 } } } })],
      clock: createManualClock(),
    });
    const instance = await host.workflow("throws").create({ id: "t" });
    await settle(host);
    const status = await instance.status();
    expect(status.status).toBe("errored");
    expect(typeof status.error?.message).toBe("string");
  });

  it.each(UNPRINTABLE)("a code-first step that throws %s fails, and the error reaches run() instead of hanging", async (_, make) => {
    class Throws extends WorkflowEntrypoint {
      async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
        try {
          await step.do("bad", { retries: { limit: 0, delay: 0 } }, async () => Promise.reject(make()));
        } catch (error) {
          throw new NonRetryableError(`caught: ${(error as Error).message}`);
        }
      }
    }
    const host = createMemoryHost({ workflows: [defineWorkflow({ name: "throws", entrypoint: Throws })], clock: createManualClock() });
    const instance = await host.workflow("throws").create({ id: "t" });
    await settle(host);
    const status = await instance.status();
    expect(status.status).toBe("errored");
    expect(status.error?.message).toMatch(/^caught: /);
  });

  it.each(UNPRINTABLE)("a code-first step whose ReadableStream errors with %s ends the instance as an invalid stream output", async (_, make) => {
    class Streams extends WorkflowEntrypoint {
      async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
        await step.do("stream", async () => new ReadableStream({ pull: (controller) => controller.error(make()) }));
      }
    }
    const host = createMemoryHost({ workflows: [defineWorkflow({ name: "streams", entrypoint: Streams })], clock: createManualClock() });
    const instance = await host.workflow("streams").create({ id: "s" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { name: "WorkflowFatalError", message: expect.stringContaining("Failed to read from step ReadableStream output.") } });
  });

  it.each(UNPRINTABLE)("a code-first step whose output is a Map keyed by %s holding a function ends the instance as not serialisable", async (_, make) => {
    class Returns extends WorkflowEntrypoint {
      async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
        await step.do("map", async () => new Map([[make(), () => 1]]) as never);
      }
    }
    const host = createMemoryHost({ workflows: [defineWorkflow({ name: "returns", entrypoint: Returns })], clock: createManualClock() });
    const instance = await host.workflow("returns").create({ id: "r" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { name: "WorkflowFatalError", message: expect.stringContaining("not serialisable") } });
  });
});
