import { describe, expect, it } from "vitest";
import { assign, setup } from "xstate";
import { createManualClock, createMemoryHost, defineWorkflow, InstanceFinishedError, MemoryStorage, NotSerializableError, step, type LogRecord } from "../../index";
import { fold } from "../../core/fold";

class Money {
  constructor(readonly cents: number) {}
}

/** What an assign might put into context that JSON cannot carry, and what the recorded error must name. */
const NOT_JSON: [string, () => unknown, RegExp][] = [
  ["a Date", () => new Date(0), /context\.when is a Date/],
  ["a Map", () => new Map([["a", 1]]), /context\.when is a Map/],
  ["a class instance", () => new Money(5), /context\.when is a Money/],
  ["a function", () => () => 1, /context\.when is a function/],
];

/** Waits for `stamp`, whose transition puts `value()` into context; a step first, so there is a result the machine kept. */
function stamped(value: () => unknown) {
  const machine = setup({
    types: { context: {} as { when: unknown; fetched: unknown } },
    actors: { fetch: step(async () => "fetched") },
  }).createMachine({
    id: "stamped",
    context: { when: null, fetched: null },
    initial: "fetching",
    states: {
      fetching: { invoke: { src: "fetch", onDone: { target: "waiting", actions: assign({ fetched: ({ event }) => event.output }) } } },
      waiting: { on: { stamp: { target: "stamped", actions: assign({ when: value }) } } },
      stamped: { on: { finish: "done" } },
      done: { type: "final" },
    },
  });
  return defineWorkflow({ name: "stamped", machine });
}

const types = (log: LogRecord[]) => log.map((r) => r.type);

describe("machine context that is not plain JSON", () => {
  it.each(NOT_JSON)("an event whose transition puts %s into context is recorded, and the instance ends errored naming it", async (_, value, names) => {
    const workflow = stamped(value);
    const storage = new MemoryStorage();
    // A snapshot after every input: the snapshot is what threw, after the records were written.
    const host = createMemoryHost({ workflows: [workflow], clock: createManualClock(), storage, snapshotEvery: 1 });
    const instance = await host.workflow("stamped").create({ id: "s" });
    await host.idle();
    await instance.sendEvent({ type: "stamp" });

    const status = await instance.status();
    expect(status).toMatchObject({ status: "errored", value: "waiting", error: { name: "NotSerializableError" } });
    expect(status.error?.message).toMatch(names);
    const log = storage.store("stamped", "s").read();
    expect(types(log).slice(-2)).toEqual(["event.received", "instance.errored"]);
    expect(log.at(-1)!.data).toEqual({ error: status.error });
    // The log says the same on replay, from the start and from the newest snapshot.
    expect(fold(workflow, log).book.ended).toEqual({ status: "errored", error: status.error });
    const reloaded = createMemoryHost({ workflows: [workflow], clock: createManualClock(), storage });
    expect(await reloaded.workflow("stamped").get("s").then((again) => again.status())).toEqual(status);

    // Finished, it refuses what comes next and its log stays as it was.
    await expect(instance.sendEvent({ type: "finish" })).rejects.toBeInstanceOf(InstanceFinishedError);
    expect(storage.store("stamped", "s").read()).toEqual(log);
  });

  it("a step result whose onDone puts a Map into context ends the instance errored, with no caller to refuse", async () => {
    const machine = setup({ actors: { fetch: step(async () => [["a", 1]]) } }).createMachine({
      id: "mapped",
      context: { table: null as unknown },
      initial: "fetching",
      states: {
        fetching: { invoke: { src: "fetch", onDone: { target: "done", actions: assign({ table: ({ event }) => new Map(event.output as [string, number][]) }) } } },
        done: { type: "final" },
      },
    });
    const workflow = defineWorkflow({ name: "mapped", machine });
    const storage = new MemoryStorage();
    const host = createMemoryHost({ workflows: [workflow], clock: createManualClock(), storage, snapshotEvery: 1 });
    await host.workflow("mapped").create({ id: "m" });
    await host.idle();
    const log = storage.store("mapped", "m").read();
    expect(types(log)).toEqual(["instance.created", "step.started", "step.succeeded", "instance.errored"]);
    expect(log.at(-1)!.data).toEqual({ error: { name: "NotSerializableError", message: expect.stringMatching(/context\.table is a Map/) } });
  });

  it("a context factory that makes a Date refuses the creation, and nothing is written", async () => {
    const machine = setup({}).createMachine({ id: "dated", context: () => ({ createdAt: new Date(0) }), initial: "open", states: { open: { on: { close: "closed" } }, closed: { type: "final" } } });
    const storage = new MemoryStorage();
    const host = createMemoryHost({ workflows: [defineWorkflow({ name: "dated", machine })], clock: createManualClock(), storage, snapshotEvery: 1 });
    const refusal = await host.workflow("dated").create({ id: "d" }).then(() => undefined, (error: unknown) => error);
    expect(refusal).toBeInstanceOf(NotSerializableError);
    expect((refusal as NotSerializableError).message).toMatch(/context\.createdAt is a Date/);
    expect(storage.all()).toEqual([]);
  });

  it("a machine done at once with an output JSON cannot carry refuses the creation, and nothing is written", async () => {
    const machine = setup({}).createMachine({ id: "instant", initial: "done", states: { done: { type: "final" } }, output: () => ({ at: new Date(0) }) });
    const storage = new MemoryStorage();
    const host = createMemoryHost({ workflows: [defineWorkflow({ name: "instant", machine })], clock: createManualClock(), storage, snapshotEvery: 1 });
    const refusal = await host.workflow("instant").create({ id: "i" }).then(() => undefined, (error: unknown) => error);
    expect(refusal).toBeInstanceOf(NotSerializableError);
    expect((refusal as NotSerializableError).message).toMatch(/output\.at is a Date/);
    expect(storage.all()).toEqual([]);
  });
});
