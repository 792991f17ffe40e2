import { describe, expect, it } from "vitest";
import { setup } from "xstate";
import {
  createManualClock,
  createMemoryHost,
  defineWorkflow,
  InvalidOperationError,
  step,
  WorkflowEntrypoint,
  type InstanceHandle,
  type WorkflowEvent,
  type WorkflowStep,
} from "../../index";
import { resolveRetention } from "../../core/retention";
import { restartKey } from "../../runtime/client";
import { createInstance } from "../../runtime/hosted";
import { MemoryStorage } from "./storage";

/**
 * restart({ from }) refuses a `from` that is not a step key or Cloudflare's
 * { name, count?, type? } with `restart.invalid_from` (the caller's mistake:
 * a 400 over HTTP), and keeps `instance.cannot_restart` (a 409) for a
 * well-formed `from` that names no step of the instance.
 */
const MALFORMED: [string, unknown][] = [
  ["a number", 42],
  ["null", null],
  ["an array", ["do:first-1"]],
  ["an object whose toString is not a function", { toString: 1 }],
  ["an object with no prototype", Object.create(null)],
  ["an object without a name", { count: 1 }],
  ["a name that is not a string", { name: 7 }],
  ["a name whose toString is not a function", { name: { toString: 1 } }],
  ["a count of 0", { name: "first", count: 0 }],
  ["a count that is not whole", { name: "first", count: 1.5 }],
  ["a count as a string", { name: "first", count: "1" }],
  ["a count whose toString is not a function", { name: "first", count: { toString: 1 } }],
  ["a count of null", { name: "first", count: null }],
  ["an unknown type", { name: "first", type: "step" }],
  ["a type with no prototype", { name: "first", type: Object.create(null) }],
];

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function settle(host: { idle(): Promise<void> }) {
  for (let i = 0; i < 5; i++) {
    await flush();
    await host.idle();
  }
}

async function refusal(action: () => Promise<unknown>): Promise<InvalidOperationError> {
  const error = await action().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InvalidOperationError);
  return error as InvalidOperationError;
}

class FirstThenWait extends WorkflowEntrypoint {
  async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
    await step.do("first", async () => 1);
    await step.waitForEvent("hold", { type: "go" });
  }
}

function firstThenWait() {
  const machine = setup({ actors: { first: step(async () => 1) } }).createMachine({
    id: "first-then-wait",
    initial: "first",
    states: { first: { invoke: { id: "first", src: "first", onDone: "holding" } }, holding: { on: { go: "done" } }, done: { type: "final" } },
  });
  return defineWorkflow({ name: "machine", machine });
}

async function instances(): Promise<[string, InstanceHandle][]> {
  const host = createMemoryHost({ workflows: [firstThenWait(), defineWorkflow({ name: "code", entrypoint: FirstThenWait })], clock: createManualClock() });
  const machine = await host.workflow("machine").create({ id: "m" });
  const code = await host.workflow("code").create({ id: "c" });
  await settle(host);
  return [
    ["machine", machine],
    ["code-first", code],
  ];
}

describe("restart({ from }) with a malformed from", () => {
  it.each(MALFORMED)("restartKey refuses %s with restart.invalid_from", (_, from) => {
    let caught: unknown;
    try {
      restartKey(from as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidOperationError);
    expect((caught as InvalidOperationError).code).toBe("restart.invalid_from");
  });

  it.each(MALFORMED)("an instance of either kind refuses %s with restart.invalid_from and writes nothing", async (_, from) => {
    for (const [kind, instance] of await instances()) {
      const before = await instance.history();
      const error = await refusal(() => instance.restart({ from: from as never }));
      expect(error.code, kind).toBe("restart.invalid_from");
      expect(error.message).toContain("restart({ from })");
      expect(await instance.history(), kind).toEqual(before);
    }
  });

  it.each([
    ["machine", () => firstThenWait()],
    ["code-first", () => defineWorkflow({ name: "code", entrypoint: FirstThenWait })],
  ] as const)("%s: a restart command whose from is not text, as an RPC could send it, is refused with restart.invalid_from", async (_, define) => {
    const def = define();
    const store = new MemoryStorage().store(def.name, "direct");
    const instance = createInstance(def, store, createManualClock(), { snapshotEvery: 100 }, "direct", { retention: resolveRetention(undefined) });
    await settle(instance);
    const before = store.read();
    for (const from of [7, { name: "first" }, Object.create(null)]) {
      let caught: unknown;
      try {
        instance.command({ type: "restart", from: from as never });
      } catch (error) {
        caught = error;
      }
      expect((caught as InvalidOperationError).code).toBe("restart.invalid_from");
    }
    expect(store.read()).toEqual(before);
  });
});

describe("restart({ from }) with a well-formed from", () => {
  it.each([
    ["machine", "first#1", "nope#1"],
    ["code-first", { name: "first" }, { name: "nope", count: 2, type: "sleep" as const }],
  ] as const)("%s: a from that names a step restarts there; one that names no step is refused with instance.cannot_restart", async (kind, known, unknown) => {
    const instance = new Map(await instances()).get(kind)!;
    const before = await instance.history();
    expect((await refusal(() => instance.restart({ from: unknown }))).code).toBe("instance.cannot_restart");
    expect(await instance.history()).toEqual(before);
    await instance.restart({ from: known });
    expect((await instance.history()).map((r) => r.type)).toContain("instance.restarted");
  });
});
