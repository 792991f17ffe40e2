import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { assign, setup } from "xstate";
import { assignDraft, ContextMutatedError, createManualClock, createMemoryHost, defineWorkflow, MemoryStorage, step, type LogRecord } from "../../index";
import { fold } from "../../core/fold";
import { freezesByDefault } from "../../core/frozen-context";
import { persist, restore } from "../../core/snapshot";

const SEED = process.env.PROPERTY_SEED === "random" ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.PROPERTY_SEED ?? 20261216);
/** Each run drives two hosts; a tenth of the usual runs keeps the file to a few seconds. */
const RUNS = Math.ceil(Number(process.env.PROPERTY_RUNS ?? 1000) / 10);

interface Line {
  sku: string;
  qty: number;
}
interface Basket {
  lines: Line[];
  notes: string[];
  total?: number;
}
type BasketEvent = { type: "add"; payload: Line } | { type: "remove"; payload: { sku: string } } | { type: "note"; payload: { text: string } } | { type: "checkout" };

/** A basket written with assignDraft throughout; its output is its whole context, so status() shows it. */
function basketWorkflow(freezeContext: boolean) {
  const machine = setup({
    types: { context: {} as Basket, events: {} as BasketEvent },
    actors: { price: step(async ({ input }: { input: Line[] }) => input.reduce((sum, line) => sum + line.qty * 3, 0)) },
    actions: {
      add: assignDraft(({ context, event }) => {
        if (event.type !== "add") return;
        const line = context.lines.find((l) => l.sku === event.payload.sku);
        if (line) line.qty += event.payload.qty;
        else context.lines.push({ ...event.payload });
      }),
    },
  }).createMachine({
    id: "basket",
    context: { lines: [], notes: [] },
    initial: "open",
    states: {
      open: {
        on: {
          add: { actions: "add" },
          remove: { actions: assignDraft(({ context, event }) => void (context.lines = context.lines.filter((l) => l.sku !== event.payload.sku))) },
          note: { actions: assignDraft(({ context, event }) => void context.notes.push(event.payload.text)) },
          checkout: "pricing",
        },
      },
      pricing: {
        invoke: { src: "price", input: ({ context }) => context.lines, onDone: { target: "done", actions: assignDraft(({ context, event }) => void (context.total = event.output)) } },
      },
      done: { type: "final" },
    },
    output: ({ context }) => context,
  });
  return defineWorkflow({ name: "basket", machine, freezeContext });
}

/** What the basket should hold after `events`, computed without XState or immer. */
function expectedBasket(events: BasketEvent[]): Basket {
  let lines: Line[] = [];
  const notes: string[] = [];
  for (const event of events) {
    if (event.type === "add") {
      const line = lines.find((l) => l.sku === event.payload.sku);
      if (line) line.qty += event.payload.qty;
      else lines.push({ ...event.payload });
    } else if (event.type === "remove") lines = lines.filter((l) => l.sku !== event.payload.sku);
    else if (event.type === "note") notes.push(event.payload.text);
  }
  return { lines, notes, total: lines.reduce((sum, line) => sum + line.qty * 3, 0) };
}

const sku = fc.constantFrom("apple", "bread", "cheese");
const basketEvents: fc.Arbitrary<BasketEvent[]> = fc.array(
  fc.oneof(
    fc.record({ type: fc.constant("add" as const), payload: fc.record({ sku, qty: fc.integer({ min: 1, max: 4 }) }) }),
    fc.record({ type: fc.constant("remove" as const), payload: fc.record({ sku }) }),
    fc.record({ type: fc.constant("note" as const), payload: fc.record({ text: fc.string({ maxLength: 6 }) }) }),
  ),
  { maxLength: 12 },
);

/**
 * Runs the basket through `events` and a checkout on a memory host; with a
 * crash before input number `crashAt` (the checkout being the last input),
 * the host loses everything in memory and rebuilds the instance from its
 * log and snapshots. Returns the output and the log.
 */
async function runBasket(freezeContext: boolean, events: BasketEvent[], crashAt?: number): Promise<{ output: unknown; log: LogRecord[] }> {
  const def = basketWorkflow(freezeContext);
  const host = createMemoryHost({ workflows: [def], clock: createManualClock(), storage: new MemoryStorage(), snapshotEvery: 3 });
  await host.workflow("basket").create({ id: "b-1" });
  const inputs: BasketEvent[] = [...events, { type: "checkout" }];
  for (const [index, event] of inputs.entries()) {
    if (index === crashAt) host.crash();
    await (await host.workflow("basket").get("b-1")).sendEvent(event);
  }
  await host.idle();
  const instance = await host.workflow("basket").get("b-1");
  const status = await instance.status();
  expect(status.status, JSON.stringify(status)).toBe("complete");
  return { output: status.output, log: await instance.history() };
}

describe("assignDraft on the memory host", () => {
  it("a crash at any point ends as a run without one, both give the context the events call for, and the log folds to it (fast-check, seeded)", async () => {
    await fc.assert(
      fc.asyncProperty(basketEvents, fc.nat(), fc.boolean(), async (events, crash, freezeContext) => {
        const whole = await runBasket(freezeContext, events);
        const crashed = await runBasket(freezeContext, events, crash % (events.length + 1));
        const expected = expectedBasket(events);
        expect(whole.output).toEqual(expected);
        expect(crashed.output).toEqual(expected);
        expect(fold(basketWorkflow(freezeContext), crashed.log).machine.context).toEqual(expected);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

/** A machine that changes its context in place, in the one place `where` names, on its "go" event. */
function mutating(where: "action" | "guard" | "input", freezeContext: boolean) {
  const machine = setup({
    types: { context: {} as { seen: string[] }, events: {} as { type: "go" } },
    actors: { work: step(async ({ input }: { input: number }) => input) },
    actions: { remember: ({ context }) => void context.seen.push("action") },
    guards: { remembering: ({ context }) => context.seen.push("guard") > 0 },
  }).createMachine({
    id: "mutating",
    context: { seen: [] },
    initial: "idle",
    states: {
      idle: {
        on: {
          go: where === "action" ? { target: "done", actions: "remember" } : where === "guard" ? { target: "done", guard: "remembering" } : { target: "working" },
        },
      },
      working: { invoke: { src: "work", input: ({ context }) => context.seen.push("input"), onDone: "done" } },
      done: { type: "final" },
    },
    output: ({ context }) => context,
  });
  return defineWorkflow({ name: "mutating", machine, freezeContext });
}

async function runMutating(where: "action" | "guard" | "input", freezeContext: boolean) {
  const actionErrors: unknown[] = [];
  const host = createMemoryHost({ workflows: [mutating(where, freezeContext)], clock: createManualClock(), onActionError: (error) => actionErrors.push(error) });
  const instance = await host.workflow("mutating").create({ id: "m-1" });
  await instance.sendEvent({ type: "go" });
  await host.idle();
  return { status: await instance.status(), actionErrors };
}

describe("frozen contexts", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each(["guard", "input"] as const)("in development, a %s that changes context in place ends the instance with context.mutated, which says to use assign or assignDraft", async (where) => {
    const { status } = await runMutating(where, true);
    expect(status.status).toBe("errored");
    expect(status.error?.name).toBe("ContextMutatedError");
    expect(status.error?.message).toMatch(/changed machine context in place \(Cannot add property 0, object is not extensible\)/);
    expect(status.error?.message).toMatch(/assign\(\) or assignDraft\(\)/);
  });

  it("in development, a plain action that changes context in place throws on its own line, told to onActionError as context.mutated", async () => {
    const { status, actionErrors } = await runMutating("action", true);
    expect(status.status).toBe("complete");
    expect(actionErrors).toHaveLength(1);
    const error = actionErrors[0] as ContextMutatedError;
    expect(error).toBeInstanceOf(ContextMutatedError);
    expect(error.code).toBe("context.mutated");
    expect(error.message).toMatch(/assignDraft/);
    // The TypeError it carries was thrown by the push in this file's `remember` action.
    expect((error.cause as Error).stack).toMatch(/frozen-context\.test\.ts/);
  });

  it.each(["action", "guard", "input"] as const)("in production, a %s that changes context in place throws nothing", async (where) => {
    const { status, actionErrors } = await runMutating(where, false);
    expect(actionErrors).toEqual([]);
    expect(status.status).toBe("complete");
  });

  it("are the default everywhere but production, as NODE_ENV says", () => {
    expect(freezesByDefault()).toBe(true);
    expect(defineWorkflow({ name: "basket", machine: basketWorkflow(true).machine }).freezeContext).toBe(true);
    vi.stubEnv("NODE_ENV", "production");
    expect(freezesByDefault()).toBe(false);
    expect(defineWorkflow({ name: "basket", machine: basketWorkflow(true).machine }).freezeContext).toBe(false);
  });

  it("are frozen all the way down as folded and as restored from a snapshot, which stores them as before; unfrozen in production", async () => {
    const events: BasketEvent[] = [{ type: "add", payload: { sku: "apple", qty: 2 } }, { type: "note", payload: { text: "ripe" } }];
    const { log } = await runBasket(true, events);
    for (const freezeContext of [true, false]) {
      const def = basketWorkflow(freezeContext);
      const folded = fold(def, log);
      const stored = persist(def, folded);
      const restored = restore(def, JSON.parse(JSON.stringify(stored)));
      expect(persist(def, restored)).toEqual(stored);
      for (const context of [folded.machine.context, restored.machine.context] as Basket[]) {
        expect([Object.isFrozen(context), Object.isFrozen(context.lines), Object.isFrozen(context.lines[0]), Object.isFrozen(context.notes)]).toEqual(Array(4).fill(freezeContext));
      }
    }
  });

  it("leave XState's own assign working, since it makes new objects", async () => {
    const machine = setup({ types: { context: {} as { count: number; log: number[] }, events: {} as { type: "bump" } } }).createMachine({
      id: "counter",
      context: { count: 0, log: [] },
      on: { bump: { actions: assign({ count: ({ context }) => context.count + 1, log: ({ context }) => [...context.log, context.count] }) } },
      initial: "counting",
      states: { counting: { always: { guard: ({ context }) => context.count >= 3, target: "done" } }, done: { type: "final" } },
      output: ({ context }) => context,
    });
    const host = createMemoryHost({ workflows: [defineWorkflow({ name: "counter", machine, freezeContext: true })], clock: createManualClock(), snapshotEvery: 1 });
    const instance = await host.workflow("counter").create({ id: "c-1" });
    for (let i = 0; i < 3; i++) await instance.sendEvent({ type: "bump" });
    expect(await instance.status()).toMatchObject({ status: "complete", output: { count: 3, log: [0, 1, 2] } });
  });
});
