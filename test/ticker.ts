import { assign, setup } from "xstate";
import { defineWorkflow, step } from "../index";

/** A machine that runs its one step `n` times in a row, then waits for `go`: a long log from a small definition. */
export const ticker = defineWorkflow({
  name: "ticker",
  machine: setup({
    types: { context: {} as { i: number; n: number }, input: {} as { n: number } },
    actors: { tick: step<number, number>(async ({ input }) => input) },
  }).createMachine({
    id: "ticker",
    context: ({ input }) => ({ i: 0, n: input.n }),
    initial: "check",
    states: {
      check: { always: [{ guard: ({ context }) => context.i < context.n, target: "work" }, { target: "waiting" }] },
      work: { invoke: { src: "tick", input: ({ context }) => context.i, onDone: { target: "check", actions: assign({ i: ({ context }) => context.i + 1 }) } } },
      waiting: { on: { go: "done" } },
      done: { type: "final" },
    },
  }),
  steps: { tick: { retries: { limit: 0, delay: 0 } } },
});
