import { assign, setup } from "xstate";
import { defineWorkflow } from "../index";

class Money {
  constructor(readonly cents: number) {}
}

/** What an event's transition puts into context, by the event's `kind`: each one JSON cannot carry. */
const MADE: Record<string, () => unknown> = {
  date: () => new Date(0),
  map: () => new Map([["a", 1]]),
  instance: () => new Money(5),
  fn: () => () => 1,
};

/**
 * Machine context that is not plain JSON: an event `stamp` assigns the value
 * its payload names, and params `{ dated: true }` make the context factory
 * build a Date at creation.
 */
export const stamper = defineWorkflow({
  name: "stamper",
  machine: setup({
    types: { context: {} as { when: unknown }, input: {} as { dated?: boolean } | undefined, events: {} as { type: "stamp"; payload: { kind: string } } | { type: "finish" } },
  }).createMachine({
    id: "stamper",
    context: ({ input }) => ({ when: input?.dated ? new Date(0) : null }),
    initial: "waiting",
    states: {
      waiting: { on: { stamp: { target: "stamped", actions: assign({ when: ({ event }) => (event.type === "stamp" ? (MADE[event.payload.kind] ?? (() => null))() : null) }) } } },
      stamped: { on: { finish: "done" } },
      done: { type: "final" },
    },
  }),
});
