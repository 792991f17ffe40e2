import { assign, setup } from "xstate";
import { defineWorkflow, step, type StepArgs } from "../index";
import type { Json } from "../core/json";

/**
 * The machines the properties run over: each exercises one way a replay can
 * go wrong. Their steps are controlled by the harness, which decides when
 * each attempt settles and how.
 */
export interface StepControl {
  run(src: string, args: StepArgs): Promise<unknown>;
}

let control: StepControl | undefined;

export function useControl(next: StepControl): void {
  control = next;
}

const controlled = (src: string) => step<unknown>((args) => control!.run(src, args as StepArgs));

/** What a step returns when it succeeds: a function of its name and input, so every run agrees. */
export function outputOf(src: string, input: unknown): Json {
  return typeof input === "number" ? input + 1 : `${src}(${JSON.stringify(input ?? null)})`;
}

/** Sequential steps with retries: a, then b, then c; a and b have compensations, run if c fails for good. */
const sequential = setup({
  types: { context: {} as { results: Json[]; failed: boolean }, input: {} as { seed?: string } | undefined },
  actors: { a: controlled("a"), b: controlled("b"), c: controlled("c"), undoA: controlled("undoA"), undoB: controlled("undoB") },
  actions: { appendResult: assign({ results: ({ context, event }) => [...context.results, (event as unknown as { output: Json }).output] }) },
}).createMachine({
  id: "sequential",
  context: { results: [], failed: false },
  initial: "a",
  states: {
    a: { invoke: { src: "a", input: ({ context }) => context.results.length, onDone: { target: "b", actions: "appendResult" }, onError: "failed" } },
    b: { invoke: { src: "b", input: ({ context }) => context.results, onDone: { target: "c", actions: "appendResult" }, onError: "failed" } },
    // No onError: a failure of c errors the machine, and the saga undoes a and b.
    c: { invoke: { src: "c", input: ({ context }) => context.results, onDone: { target: "done", actions: "appendResult" } } },
    done: { type: "final" },
    failed: { type: "final", entry: assign({ failed: true }) },
  },
  output: ({ context }) => context,
});

/** A loop that re-enters the same invoke: every pass is a new generation of `inc`. */
const loop = setup({
  types: { context: {} as { count: number; target: number; errors: number }, input: {} as { target?: number } | undefined },
  actors: { inc: controlled("inc") },
}).createMachine({
  id: "loop",
  context: ({ input }) => ({ count: 0, target: input?.target ?? 4, errors: 0 }),
  initial: "work",
  states: {
    work: {
      invoke: {
        src: "inc",
        input: ({ context }) => context.count,
        onDone: { target: "check", actions: assign({ count: ({ event }) => event.output as number }) },
        onError: { target: "work", reenter: true, actions: assign({ errors: ({ context }) => context.errors + 1 }) },
      },
    },
    check: { always: [{ guard: ({ context }) => context.count >= context.target, target: "done" }, { target: "work" }] },
    done: { type: "final" },
  },
  output: ({ context }) => context,
});

/** Parallel regions that join: left runs two steps, right one. */
const parallel = setup({
  types: { context: {} as { left: Json[]; right: Json[] } },
  actors: { l1: controlled("l1"), l2: controlled("l2"), r1: controlled("r1") },
}).createMachine({
  id: "parallel",
  context: { left: [], right: [] },
  initial: "both",
  states: {
    both: {
      type: "parallel",
      onDone: "joined",
      states: {
        left: {
          initial: "l1",
          states: {
            l1: { invoke: { src: "l1", input: 1, onDone: { target: "l2", actions: assign({ left: ({ context, event }) => [...context.left, event.output as Json] }) }, onError: "#parallel.failed" } },
            l2: { invoke: { src: "l2", input: ({ context }) => context.left, onDone: { target: "fin", actions: assign({ left: ({ context, event }) => [...context.left, event.output as Json] }) }, onError: "#parallel.failed" } },
            fin: { type: "final" },
          },
        },
        right: {
          initial: "r1",
          states: {
            r1: { invoke: { src: "r1", input: 10, onDone: { target: "fin", actions: assign({ right: ({ event }) => [event.output as Json] }) }, onError: "#parallel.failed" } },
            fin: { type: "final" },
          },
        },
      },
    },
    joined: { type: "final" },
    failed: { type: "final" },
  },
  output: ({ context }) => context,
});

/** An `after` timeout racing an external event, with a history state that must survive snapshots. */
const race = setup({
  types: { context: {} as { approvedBy: Json; holds: number } },
  actors: { prep: controlled("prep"), ship: controlled("ship") },
}).createMachine({
  id: "race",
  context: { approvedBy: null, holds: 0 },
  initial: "prep",
  states: {
    prep: { invoke: { src: "prep", onDone: "waiting", onError: "failed" } },
    waiting: {
      initial: "quiet",
      states: {
        quiet: { after: { 300: "nudged" } },
        nudged: {},
        hist: { type: "history" },
      },
      on: {
        approve: { target: "shipping", actions: assign({ approvedBy: ({ event }) => (event as { payload?: Json }).payload ?? null }) },
        hold: { target: "held", actions: assign({ holds: ({ context }) => context.holds + 1 }) },
      },
      after: { 20000: "timedOut" },
    },
    held: { on: { release: "#race.waiting.hist" }, after: { 1000: "#race.waiting.hist" } },
    shipping: { invoke: { src: "ship", input: ({ context }) => context.approvedBy, onDone: "shipped", onError: "failed" } },
    shipped: { type: "final" },
    timedOut: { type: "final" },
    failed: { type: "final" },
  },
  output: ({ context }) => context,
});

/** A slow step timed out by re-entering its own state: older generations finish late and must be ignored. */
const stale = setup({
  types: { context: {} as { tries: number; result: Json } },
  actors: { slow: controlled("slow") },
}).createMachine({
  id: "stale",
  context: { tries: 0, result: null },
  initial: "trying",
  states: {
    trying: {
      entry: assign({ tries: ({ context }) => context.tries + 1 }),
      invoke: { src: "slow", input: ({ context }) => context.tries, onDone: { target: "done", actions: assign({ result: ({ event }) => event.output as Json }) }, onError: "failed" },
      after: { 1000: [{ guard: ({ context }) => context.tries < 3, target: "trying", reenter: true }, { target: "gaveUp" }] },
    },
    done: { type: "final" },
    gaveUp: { type: "final" },
    failed: { type: "final" },
  },
  output: ({ context }) => context,
});

const fast = { retries: { limit: 1, delay: 300, backoff: "constant" as const } };

export const definitions = {
  sequential: defineWorkflow({
    name: "sequential",
    machine: sequential,
    steps: {
      a: { retries: { limit: 2, delay: 1000, backoff: "constant" }, compensate: "undoA" },
      b: { retries: { limit: 1, delay: 500, backoff: "exponential" }, compensate: "undoB" },
      c: { retries: { limit: 0, delay: 0 } },
      undoA: { retries: { limit: 1, delay: 300, backoff: "constant" } },
      undoB: { retries: { limit: 1, delay: 300, backoff: "constant" } },
    },
  }),
  loop: defineWorkflow({ name: "loop", machine: loop, steps: { inc: fast } }),
  parallel: defineWorkflow({ name: "parallel", machine: parallel, steps: { l1: fast, l2: fast, r1: fast } }),
  race: defineWorkflow({ name: "race", machine: race, steps: { prep: fast, ship: fast } }),
  stale: defineWorkflow({ name: "stale", machine: stale, steps: { slow: { retries: { limit: 0, delay: 0 } } } }),
};

export type MachineName = keyof typeof definitions;

export const EVENT_TYPES: Record<MachineName, string[]> = {
  sequential: ["noise"],
  loop: ["noise"],
  parallel: ["noise"],
  race: ["approve", "hold", "hold", "release", "release", "noise"],
  stale: ["noise"],
};
