import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assign, createActor, setup, type AnyStateMachine } from "xstate";
import { assignDraft } from "./assign-draft";

const SEED = process.env.PROPERTY_SEED === "random" ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.PROPERTY_SEED ?? 20261216);
const RUNS = Number(process.env.PROPERTY_RUNS ?? 1000);

interface Line {
  sku: string;
  qty: number;
}
interface Basket {
  lines: Line[];
  tags: Record<string, number>;
  note?: string;
}
type BasketEvent =
  | { type: "add"; sku: string; qty: number }
  | { type: "remove"; sku: string }
  | { type: "tag"; name: string }
  | { type: "note"; text: string }
  | { type: "clear-note" };

const types = { context: {} as Basket, events: {} as BasketEvent };

/** The basket, written with drafts: each action changes the context in place. */
const drafted = setup({
  types,
  actions: {
    add: assignDraft(({ context, event }) => {
      if (event.type !== "add") return;
      const line = context.lines.find((l) => l.sku === event.sku);
      if (line) line.qty += event.qty;
      else context.lines.push({ sku: event.sku, qty: event.qty });
    }),
    remove: assignDraft(({ context, event }) => {
      if (event.type !== "remove") return;
      const index = context.lines.findIndex((l) => l.sku === event.sku);
      if (index >= 0) context.lines.splice(index, 1);
    }),
  },
}).createMachine({
  context: { lines: [], tags: {} },
  on: {
    add: { actions: "add" },
    remove: { actions: "remove" },
    // Inline, typed by the transition's own event.
    tag: { actions: assignDraft(({ context, event }) => void (context.tags[event.name] = (context.tags[event.name] ?? 0) + 1)) },
    note: { actions: assignDraft(({ context, event }) => void (context.note = event.text)) },
    "clear-note": { actions: assignDraft(({ context }) => void delete context.note) },
  },
});

/** The same basket with XState's assign, building every new value by hand. */
const assigned = setup({ types }).createMachine({
  context: { lines: [], tags: {} },
  on: {
    add: {
      actions: assign({
        lines: ({ context, event }) =>
          context.lines.some((l) => l.sku === event.sku)
            ? context.lines.map((l) => (l.sku === event.sku ? { ...l, qty: l.qty + event.qty } : l))
            : [...context.lines, { sku: event.sku, qty: event.qty }],
      }),
    },
    remove: { actions: assign({ lines: ({ context, event }) => context.lines.filter((l) => l.sku !== event.sku) }) },
    tag: { actions: assign({ tags: ({ context, event }) => ({ ...context.tags, [event.name]: (context.tags[event.name] ?? 0) + 1 }) }) },
    note: { actions: assign({ note: ({ event }) => event.text }) },
    "clear-note": { actions: assign({ note: undefined }) },
  },
});

const sku = fc.constantFrom("apple", "bread", "cheese", "dates");
const events: fc.Arbitrary<BasketEvent[]> = fc.array(
  fc.oneof(
    fc.record({ type: fc.constant("add" as const), sku, qty: fc.integer({ min: 1, max: 5 }) }),
    fc.record({ type: fc.constant("remove" as const), sku }),
    fc.record({ type: fc.constant("tag" as const), name: fc.constantFrom("gift", "fragile", "cold") }),
    fc.record({ type: fc.constant("note" as const), text: fc.string({ maxLength: 8 }) }),
    fc.constant({ type: "clear-note" as const }),
  ),
  { maxLength: 30 },
);

/** Every context the machine passes through, each as JSON at the moment it was made. */
function contexts(machine: AnyStateMachine, sequence: BasketEvent[]): { made: string[]; objects: unknown[] } {
  const actor = createActor(machine).start();
  const objects: unknown[] = [actor.getSnapshot().context];
  const made = [JSON.stringify(objects[0])];
  for (const event of sequence) {
    actor.send(event);
    const context: unknown = actor.getSnapshot().context;
    objects.push(context);
    made.push(JSON.stringify(context));
  }
  return { made, objects };
}

describe("assignDraft", () => {
  it("changes context as XState's assign does, for any sequence of events, and never changes a context it was given (fast-check, seeded)", () => {
    fc.assert(
      fc.property(events, (sequence) => {
        const withDrafts = contexts(drafted, sequence);
        const withAssign = contexts(assigned, sequence);
        expect(withDrafts.made).toEqual(withAssign.made);
        // Every earlier context still reads as it did when it was made: the draft's changes went into new objects.
        expect(withDrafts.objects.map((c) => JSON.stringify(c))).toEqual(withDrafts.made);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("shares the parts of the context a recipe left alone", () => {
    const actor = createActor(drafted).start();
    actor.send({ type: "add", sku: "apple", qty: 1 });
    const before = actor.getSnapshot().context;
    actor.send({ type: "tag", name: "gift" });
    const after = actor.getSnapshot().context;
    expect(after.lines).toBe(before.lines);
    expect(after.tags).not.toBe(before.tags);
  });

  it("ignores what a recipe returns, so an expression body such as push's count is harmless", () => {
    const machine = setup({ types: { context: {} as { items: number[] }, events: {} as { type: "push"; n: number } } }).createMachine({
      context: { items: [] },
      on: { push: { actions: assignDraft(({ context, event }) => context.items.push(event.n)) } },
    });
    const actor = createActor(machine).start();
    actor.send({ type: "push", n: 7 });
    actor.send({ type: "push", n: 8 });
    expect(actor.getSnapshot().context).toEqual({ items: [7, 8] });
  });

  it("passes an action's params, typed by setup", () => {
    const machine = setup({
      types: { context: {} as { count: number }, events: {} as { type: "bump" } },
      actions: { bump: assignDraft(({ context }, params: { by: number }) => void (context.count += params.by)) },
    }).createMachine({ context: { count: 0 }, on: { bump: { actions: { type: "bump", params: { by: 3 } } } } });
    const actor = createActor(machine).start();
    actor.send({ type: "bump" });
    expect(actor.getSnapshot().context.count).toBe(3);
  });

  it("is typed by the machine's context and events", () => {
    setup({
      types: { context: {} as { items: string[] }, events: {} as { type: "add"; item: string } },
      actions: {
        // @ts-expect-error: the context has no `count`
        wrongKey: assignDraft(({ context }) => void (context.count = 1)),
        // @ts-expect-error: items holds strings
        wrongValue: assignDraft(({ context }) => void context.items.push(1)),
        // @ts-expect-error: the events have no `quantity`
        wrongEvent: assignDraft(({ context, event }) => void context.items.push(event.quantity)),
      },
    });
  });
});
