import { assign, setup } from "xstate";
import { defineWorkflow, NonRetryableError, step, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../index";

/**
 * Complete as soon as it is created: no step, no timer. Once its status
 * report is lost, nothing but an alarm would ever wake it again, which is
 * the case a kill -9 during creations found.
 */
export const instant = defineWorkflow({
  name: "instant",
  machine: setup({}).createMachine({ id: "instant", initial: "done", states: { done: { type: "final" } } }),
});

/** `steps` quick steps one after another, then complete: a long burst that changes status only at its ends. */
export const treadmill = defineWorkflow({
  name: "treadmill",
  machine: setup({
    types: { context: {} as { left: number }, input: {} as { steps: number } },
    actors: { tick: step<number, number>(async ({ input }) => input - 1) },
    guards: { more: ({ context }) => context.left > 0 },
  }).createMachine({
    id: "treadmill",
    context: ({ input }) => ({ left: input.steps }),
    initial: "next",
    states: {
      next: { always: [{ guard: "more", target: "ticking" }, { target: "done" }] },
      ticking: { invoke: { src: "tick", input: ({ context }) => context.left, onDone: { target: "next", actions: assign({ left: ({ event }) => event.output }) } } },
      done: { type: "final" },
    },
  }),
});

export interface HoardParams {
  /** Steps to run; each output is kept in the context. */
  rounds: number;
  /** Bytes of UTF-8 in each output. */
  bytes: number;
}

/**
 * A string of exactly `bytes` bytes of UTF-8 that mixes one-, two-, three-
 * and four-byte characters, so a split by bytes lands inside characters.
 */
export function mixedText(bytes: number, seed: number): string {
  const pattern = `${seed}:a\u00e9\u20ac\u{1f600}`;
  const patternBytes = new TextEncoder().encode(pattern).length;
  const whole = Math.floor(bytes / patternBytes);
  return pattern.repeat(whole) + "x".repeat(bytes - whole * patternBytes);
}

/** Keeps every step's output (nearly 1 MiB each) in its context, so its snapshots outgrow a SQLite row many times over. */
export const hoarder = defineWorkflow({
  name: "hoarder",
  machine: setup({
    types: { context: {} as { params: HoardParams; kept: string[] }, input: {} as HoardParams },
    actors: { produce: step<string, { round: number; bytes: number }>(async ({ input }) => mixedText(input.bytes, input.round)) },
    guards: { more: ({ context }) => context.kept.length < context.params.rounds },
  }).createMachine({
    id: "hoarder",
    context: ({ input }) => ({ params: input, kept: [] }),
    initial: "next",
    states: {
      next: { always: [{ guard: "more", target: "producing" }, { target: "full" }] },
      producing: {
        invoke: {
          src: "produce",
          input: ({ context }) => ({ round: context.kept.length, bytes: context.params.bytes }),
          onDone: { target: "next", actions: assign({ kept: ({ context, event }) => [...context.kept, event.output] }) },
        },
      },
      full: { on: { done: "finished" } },
      finished: { type: "final" },
    },
    output: ({ context }) => context.kept.map((text) => text.length),
  }),
});

/** A step whose error carries a message of `characters` characters, which escapes run(): the instance errors with it. */
export const loudFailure = defineWorkflow({
  name: "loud-failure",
  entrypoint: class extends WorkflowEntrypoint<unknown, { characters: number }> {
    async run(event: WorkflowEvent<{ characters: number }>, step: WorkflowStep) {
      await step.do("shout", async () => {
        throw new NonRetryableError(`loud:${"\u20ac".repeat(event.payload.characters)}`);
      });
    }
  },
});
