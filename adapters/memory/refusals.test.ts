import { describe, expect, it } from "vitest";
import { assign, setup } from "xstate";
import {
  createManualClock,
  createMemoryHost,
  defineWorkflow,
  DefinitionMismatchError,
  DurableMachinesError,
  InstanceExistsError,
  InstanceFinishedError,
  InstanceNotFoundError,
  InvalidEventError,
  InvalidInstanceIdError,
  InvalidOperationError,
  MemoryStorage,
  NotSerializableError,
  PayloadTooLargeError,
  step,
  UnknownWorkflowError,
  type LogRecord,
  type MemoryHost,
} from "../../index";

// ---------------------------------------------------------------- helpers

type ErrorClass = abstract new (...args: never[]) => DurableMachinesError;

/** Runs `action`, expects it to throw (or reject with) `kind` with `code`, and returns the error. */
async function refused(action: () => unknown, kind: ErrorClass, code: string): Promise<DurableMachinesError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a ${kind.name}`).toBeInstanceOf(kind);
  expect((caught as DurableMachinesError).code).toBe(code);
  expect((caught as Error).message.length).toBeGreaterThan(0);
  return caught as DurableMachinesError;
}

/** Every record of every instance in the storage: what "the log as it was" means. */
function everything(storage: MemoryStorage): Record<string, LogRecord[]> {
  return Object.fromEntries(storage.all().map(({ workflow, id }) => [`${workflow}/${id}`, storage.store(workflow, id).read()]));
}

function circular(): unknown {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  return value;
}

/** Values JSON cannot carry faithfully, each with what the refusal should name. */
const NOT_JSON: [string, () => unknown, RegExp][] = [
  ["a function", () => ({ f: () => 1 }), /function/],
  ["a Date", () => ({ when: new Date(0) }), /Date/],
  ["a BigInt", () => ({ n: 10n }), /bigint/],
  ["NaN", () => ({ n: Number.NaN }), /NaN/],
  ["Infinity", () => [Number.POSITIVE_INFINITY], /Infinity/],
  ["a circular object", circular, /circular/],
  ["a Map", () => new Map([["k", 1]]), /Map/],
  ["undefined in an array", () => [1, undefined], /undefined/],
];

/** Waits for an event `go` and then completes; one step `work` on the way in. */
function gatedWorkflow() {
  const machine = setup({
    types: { context: {} as { got: unknown } },
    actors: { work: step(async () => "worked") },
  }).createMachine({
    id: "gated",
    context: { got: null },
    initial: "working",
    states: {
      working: { invoke: { id: "work", src: "work", onDone: "waiting" } },
      waiting: { on: { go: { target: "done", actions: assign({ got: ({ event }) => (event as { payload?: unknown }).payload ?? null }) } } },
      done: { type: "final" },
    },
    output: ({ context }) => ({ got: context.got }) as never,
  });
  return defineWorkflow({ name: "gated", machine });
}

function newHost(storage = new MemoryStorage()): MemoryHost {
  return createMemoryHost({ workflows: [gatedWorkflow()], clock: createManualClock(), storage });
}

// ---------------------------------------------------------------- workflows and ids

describe("refusals: workflows and instance ids", () => {
  it("an unknown workflow name is refused with workflow.not_found, naming the registered ones", async () => {
    const host = newHost();
    const error = await refused(() => host.workflow("nope"), UnknownWorkflowError, "workflow.not_found");
    expect(error.message).toContain('"nope"');
    expect(error.message).toContain('"gated"');
    expect(host.storage.all()).toEqual([]);
  });

  const BAD_IDS: [string, unknown][] = [
    ["empty", ""],
    ["starting with -", "-a"],
    ["101 characters", "a".repeat(101)],
    ["with a space", "a b"],
    ["with a dot", "a.b"],
    ["a number", 42],
  ];

  it.each(BAD_IDS)("create refuses an id %s, and creates nothing", async (_, id) => {
    const host = newHost();
    await host.workflow("gated").create({ id: "keep" });
    await host.idle();
    const before = everything(host.storage);
    const error = await refused(() => host.workflow("gated").create({ id: id as string }), InvalidInstanceIdError, "instance.invalid_id");
    expect(error.message).toContain(JSON.stringify(id));
    expect(everything(host.storage)).toEqual(before);
  });

  it.each(BAD_IDS)("get refuses an id %s", async (_, id) => {
    const host = newHost();
    await refused(() => host.workflow("gated").get(id as string), InvalidInstanceIdError, "instance.invalid_id");
    expect(host.storage.all()).toEqual([]);
  });

  it("ids of 1 and 100 characters, with _ and -, are accepted", async () => {
    const host = newHost();
    for (const id of ["a", "_", "a".repeat(100), "A-b_9"]) {
      const instance = await host.workflow("gated").create({ id });
      expect(instance.id).toBe(id);
      expect((await host.workflow("gated").get(id)).id).toBe(id);
    }
  });

  it("a duplicate id is refused with instance.already_exists and the first instance's log is untouched", async () => {
    const host = newHost();
    const first = await host.workflow("gated").create({ id: "dup", params: { n: 1 } });
    await host.idle();
    const before = everything(host.storage);
    const history = await first.history();
    await refused(() => host.workflow("gated").create({ id: "dup", params: { n: 2 } }), InstanceExistsError, "instance.already_exists");
    expect(everything(host.storage)).toEqual(before);
    expect(await first.history()).toEqual(history);
    expect((history[0] as LogRecord<"instance.created">).data.params).toEqual({ n: 1 });
  });

  it("get of a missing id is refused with instance.not_found and does not create it", async () => {
    const host = newHost();
    const error = await refused(() => host.workflow("gated").get("missing"), InstanceNotFoundError, "instance.not_found");
    expect(error.message).toContain('"missing"');
    expect(host.storage.has("gated", "missing")).toBe(false);
    expect((await host.workflow("gated").list()).instances).toEqual([]);
  });

  it("createBatch with no instances, or more than 100, is refused and creates nothing", async () => {
    const host = newHost();
    await refused(() => host.workflow("gated").createBatch({ instances: [] }), InvalidOperationError, "batch.invalid");
    const many = Array.from({ length: 101 }, (_, i) => ({ id: `m${i}` }));
    await refused(() => host.workflow("gated").createBatch({ instances: many }), InvalidOperationError, "batch.invalid");
    expect(host.storage.all()).toEqual([]);
  });
});

// ---------------------------------------------------------------- params

describe("refusals: params", () => {
  it.each(NOT_JSON)("params holding %s are refused with payload.not_serializable, and no instance is created", async (_, make, names) => {
    const host = newHost();
    const error = await refused(() => host.workflow("gated").create({ id: "p", params: make() }), NotSerializableError, "payload.not_serializable");
    expect(error.message).toMatch(names);
    expect(error.message).toContain("params");
    expect(host.storage.has("gated", "p")).toBe(false);
    await refused(() => host.workflow("gated").get("p"), InstanceNotFoundError, "instance.not_found");

    // Nothing half-made stands in the way of a good create with the same id.
    const instance = await host.workflow("gated").create({ id: "p", params: { ok: true } });
    await host.idle();
    expect((await instance.status()).status).toBe("waiting");
  });

  it("createBatch reports non-JSON params per index and creates the rest", async () => {
    const host = newHost();
    const { created, errors } = await host.workflow("gated").createBatch({
      instances: [{ id: "ok", params: 1 }, { id: "bad", params: { f: () => 1 } }],
    });
    expect(created.map((h) => h.id)).toEqual(["ok"]);
    expect(errors.map(({ index, id, code }) => ({ index, id, code }))).toEqual([{ index: 1, id: "bad", code: "payload.not_serializable" }]);
    expect(host.storage.has("gated", "bad")).toBe(false);
  });

  it("params over 1 MiB are refused with payload.too_large; exactly 1 MiB is accepted", async () => {
    const host = newHost();
    const limit = 1024 * 1024;
    const error = await refused(() => host.workflow("gated").create({ id: "big", params: "x".repeat(limit - 1) }), PayloadTooLargeError, "payload.too_large");
    expect(error.message).toContain(String(limit + 1));
    expect(host.storage.all()).toEqual([]);

    const fits = await host.workflow("gated").create({ id: "fits", params: "x".repeat(limit - 2) });
    expect(((await fits.history())[0] as LogRecord<"instance.created">).data.params).toHaveLength(limit - 2);
  });
});

// ---------------------------------------------------------------- events

describe("refusals: events", () => {
  async function waitingInstance() {
    const host = newHost();
    const instance = await host.workflow("gated").create({ id: "ev" });
    await host.idle();
    expect((await instance.status()).value).toBe("waiting");
    return { host, instance };
  }

  it.each([
    ["an XState internal type", "xstate.done.actor.work"],
    ["an XState error type", "xstate.error.actor.work"],
    ["an empty type", ""],
    ["a type with a space", "go now"],
    ["a type starting with -", "-go"],
    ["a type that is not a string", 7],
  ])("an event with %s is refused with event.invalid and the log is unchanged", async (_, type) => {
    const { host, instance } = await waitingInstance();
    const before = await instance.history();
    const statusBefore = await instance.status();
    await refused(() => instance.sendEvent({ type: type as string, payload: 1 }), InvalidEventError, "event.invalid");
    expect(await instance.history()).toEqual(before);
    expect(await instance.status()).toEqual(statusBefore);
    host.crash();
    expect(await instance.history()).toEqual(before);
    expect(await instance.status()).toEqual(statusBefore);
  });

  it("an XState internal event cannot spoof a running step's result", async () => {
    let release!: () => void;
    const machine = setup({
      actors: { work: step(async () => new Promise<string>((resolve) => (release = () => resolve("real")))) },
    }).createMachine({
      id: "spoof",
      context: { out: null as unknown },
      initial: "working",
      states: {
        working: { invoke: { id: "work", src: "work", onDone: { target: "done", actions: assign({ out: ({ event }) => event.output }) } } },
        done: { type: "final" },
      },
      output: ({ context }) => context.out,
    });
    const host = createMemoryHost({ workflows: [defineWorkflow({ name: "spoof", machine })], clock: createManualClock() });
    const instance = await host.workflow("spoof").create({ id: "s" });
    await new Promise<void>((resolve) => setImmediate(resolve));
    const before = await instance.history();
    await refused(() => instance.sendEvent({ type: "xstate.done.actor.work", payload: "fake" }), InvalidEventError, "event.invalid");
    expect(await instance.history()).toEqual(before);
    expect(await instance.status()).toMatchObject({ status: "running", value: "working" });
    release();
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: "real" });
  });

  it.each(NOT_JSON)("an event payload holding %s is refused with payload.not_serializable and the log is unchanged", async (_, make, names) => {
    const { instance } = await waitingInstance();
    const before = await instance.history();
    const error = await refused(() => instance.sendEvent({ type: "go", payload: make() }), NotSerializableError, "payload.not_serializable");
    expect(error.message).toMatch(names);
    expect(await instance.history()).toEqual(before);
    expect((await instance.status()).value).toBe("waiting");
  });

  it("an event payload over 1 MiB is refused with payload.too_large", async () => {
    const { instance } = await waitingInstance();
    const before = await instance.history();
    await refused(() => instance.sendEvent({ type: "go", payload: { blob: "y".repeat(1024 * 1024) } }), PayloadTooLargeError, "payload.too_large");
    expect(await instance.history()).toEqual(before);
  });

  it("an invalid idempotencyKey is refused with event.invalid", async () => {
    const { instance } = await waitingInstance();
    const before = await instance.history();
    await refused(() => instance.sendEvent({ type: "go", idempotencyKey: "" }), InvalidEventError, "event.invalid");
    await refused(() => instance.sendEvent({ type: "go", idempotencyKey: "k".repeat(257) }), InvalidEventError, "event.invalid");
    await refused(() => instance.sendEvent({ type: "go", idempotencyKey: 5 as unknown as string }), InvalidEventError, "event.invalid");
    expect(await instance.history()).toEqual(before);
  });

  it("an event to a completed or terminated instance is refused with instance.finished", async () => {
    const { host, instance } = await waitingInstance();
    await instance.sendEvent({ type: "go", payload: "once" });
    expect(await instance.status()).toMatchObject({ status: "complete", output: { got: "once" } });
    const before = await instance.history();
    const error = await refused(() => instance.sendEvent({ type: "go", payload: "twice" }), InstanceFinishedError, "instance.finished");
    expect(error.message).toContain("complete");
    expect(await instance.history()).toEqual(before);

    const other = await host.workflow("gated").create({ id: "ended" });
    await other.terminate();
    const terminated = await other.history();
    await refused(() => other.sendEvent({ type: "go" }), InstanceFinishedError, "instance.finished");
    expect(await other.history()).toEqual(terminated);
  });
});

// ---------------------------------------------------------------- step outputs

describe("refusals: step outputs that are not JSON", () => {
  function outputWorkflow(value: () => unknown, calls: { n: number }, withOnError: boolean) {
    const machine = setup({
      types: { context: {} as { error: unknown } },
      actors: {
        produce: step(async () => {
          calls.n++;
          return value();
        }),
      },
    }).createMachine({
      id: "out",
      context: { error: null },
      initial: "producing",
      states: {
        producing: {
          invoke: withOnError
            ? { id: "produce", src: "produce", onDone: "done", onError: { target: "failed", actions: assign({ error: ({ event }) => event.error }) } }
            : { id: "produce", src: "produce", onDone: "done" },
        },
        done: { type: "final" },
        failed: { type: "final" },
      },
      output: ({ context }) => ({ error: context.error }) as never,
    });
    return defineWorkflow({ name: "out", machine, steps: { produce: { retries: { limit: 3, delay: 10, backoff: "constant" } } } });
  }

  it.each(NOT_JSON)("a step returning %s fails at once, without retries, and the value never reaches the log", async (_, make, names) => {
    const calls = { n: 0 };
    const marker = "leak-me-4711";
    const clock = createManualClock();
    const host = createMemoryHost({ workflows: [outputWorkflow(() => ({ marker, bad: make() }), calls, true)], clock });
    const instance = await host.workflow("out").create({ id: "o" });
    await host.idle();
    clock.advance(10_000);
    await host.idle();

    expect(calls.n).toBe(1);
    const log = await instance.history();
    expect(log.some((r) => r.type === "step.succeeded")).toBe(false);
    expect(JSON.stringify(log)).not.toContain(marker);
    const failed = log.filter((r): r is LogRecord<"step.failed"> => r.type === "step.failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.data.error.name).toBe("NotSerializableError");
    expect(failed[0]!.data.error.message).toMatch(names);
    expect(failed[0]!.data.error.message).toContain('step "produce"');
    expect(log.filter((r) => r.type === "step.attempt_failed").map((r) => (r as LogRecord<"step.attempt_failed">).data.retryAt)).toEqual([undefined]);
    expect(await instance.status()).toMatchObject({ status: "complete", value: "failed" });
  });

  it("without onError, the instance ends errored and names the problem", async () => {
    const calls = { n: 0 };
    const host = createMemoryHost({ workflows: [outputWorkflow(() => new Date(0), calls, false)], clock: createManualClock() });
    const instance = await host.workflow("out").create({ id: "o" });
    await host.idle();
    const status = await instance.status();
    expect(status.status).toBe("errored");
    expect(status.error?.name).toBe("NotSerializableError");
    expect(status.error?.message).toMatch(/Date/);
    expect(calls.n).toBe(1);
  });

  it("a step output over 1 MiB fails at once with payload.too_large and is not stored", async () => {
    const calls = { n: 0 };
    const host = createMemoryHost({ workflows: [outputWorkflow(() => "z".repeat(1024 * 1024 + 10), calls, true)], clock: createManualClock() });
    const instance = await host.workflow("out").create({ id: "o" });
    await host.idle();
    const log = await instance.history();
    expect(calls.n).toBe(1);
    expect(JSON.stringify(log).length).toBeLessThan(10_000);
    expect(log.find((r): r is LogRecord<"step.failed"> => r.type === "step.failed")?.data.error.name).toBe("PayloadTooLargeError");
  });
});

// ---------------------------------------------------------------- definitions

describe("refusals: replay against a changed definition", () => {
  function v1() {
    const machine = setup({ actors: { work: step(async () => "v1") } }).createMachine({
      id: "flow",
      initial: "working",
      states: {
        working: { invoke: { id: "work", src: "work", onDone: "waiting" } },
        waiting: { on: { go: "done" } },
        done: { type: "final" },
      },
      output: () => "finished by v1",
    });
    return defineWorkflow({ name: "flow", machine });
  }

  function v2() {
    const machine = setup({ actors: { work: step(async () => "v2") } }).createMachine({
      id: "flow",
      initial: "working",
      states: {
        working: { invoke: { id: "work", src: "work", onDone: "review" } },
        review: { on: { approve: "waiting" } },
        waiting: { on: { go: "done" } },
        done: { type: "final" },
      },
      output: () => "finished by v2",
    });
    return defineWorkflow({ name: "flow", machine });
  }

  it("a host without the pinned definition refuses the instance with definition.mismatch and leaves its log alone", async () => {
    const storage = new MemoryStorage();
    const old = v1();
    const first = createMemoryHost({ workflows: [old], clock: createManualClock(), storage });
    const instance = await first.workflow("flow").create({ id: "pinned" });
    await first.idle();
    expect((await instance.status()).value).toBe("waiting");
    const before = everything(storage);
    const snapshotsBefore = storage.snapshots("flow", "pinned");

    const changed = v2();
    expect(changed.hash).not.toBe(old.hash);
    const second = createMemoryHost({ workflows: [changed], clock: createManualClock(), storage });
    const error = await refused(() => second.workflow("flow").get("pinned"), DefinitionMismatchError, "definition.mismatch");
    expect(error.message).toContain(old.hash);
    expect(error.message).toContain('"pinned"');
    await refused(() => second.workflow("flow").list(), DefinitionMismatchError, "definition.mismatch");
    expect(() => second.crash()).not.toThrow();
    await refused(() => second.workflow("flow").get("pinned"), DefinitionMismatchError, "definition.mismatch");
    expect(everything(storage)).toEqual(before);
    expect(storage.snapshots("flow", "pinned")).toEqual(snapshotsBefore);

    // New instances on that host use the new definition.
    const fresh = await second.workflow("flow").create({ id: "fresh" });
    await second.idle();
    expect((await fresh.status()).value).toBe("review");
  });

  it("listing the old and the new definitions lets the old instance load and finish", async () => {
    const storage = new MemoryStorage();
    const first = createMemoryHost({ workflows: [v1()], clock: createManualClock(), storage });
    await first.workflow("flow").create({ id: "pinned" });
    await first.idle();

    const both = createMemoryHost({ workflows: [v1(), v2()], clock: createManualClock(), storage });
    const instance = await both.workflow("flow").get("pinned");
    expect(await instance.status()).toMatchObject({ status: "waiting", value: "waiting" });
    await instance.sendEvent({ type: "go" });
    expect(await instance.status()).toMatchObject({ status: "complete", output: "finished by v1" });

    const fresh = await both.workflow("flow").create({ id: "fresh" });
    await both.idle();
    expect((await fresh.status()).value).toBe("review");
    await fresh.sendEvent({ type: "approve" });
    await fresh.sendEvent({ type: "go" });
    expect(await fresh.status()).toMatchObject({ status: "complete", output: "finished by v2" });
  });
});
