import { assign, setup } from "xstate";
import { defineWorkflow, NonRetryableError, step, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../index";
import type { RunLedger } from "./run-ledger";
import { streamedBody, type StreamParams } from "./stream-body";

export interface TestEnv {
  RUN_LEDGER: DurableObjectNamespace<RunLedger>;
}

const ledger = (env: TestEnv) => env.RUN_LEDGER.get(env.RUN_LEDGER.idFromName("ledger"));

/** A step that counts its runs in the ledger under `<instance>:<name>`, then waits there if its input says so. */
const counted = (name: string) =>
  step<string, { instance: string; hold?: boolean; fail?: "once" | "always" }, TestEnv>(async ({ input, env, attempt }) => {
    const key = `${input.instance}:${name}`;
    await ledger(env).ran(key);
    if (input.hold) await ledger(env).hold(key);
    if (input.fail === "always") throw new NonRetryableError(`${name} refused`);
    if (input.fail === "once" && attempt === 1) throw new Error(`${name} failed once`);
    return `${name} done`;
  });

type Params = { instance: string; holdB?: boolean; failB?: "once" | "always"; wait?: number };

/**
 * How long b waits before its retry: long enough that the retry never comes
 * on its own during a test, which moves the clock (`skipAhead`) and rings the
 * alarm to reach it.
 */
export const B_RETRY_DELAY = 60_000;

/** Three steps in a row, then a short durable sleep, then an event with a timeout. */
export const gated = defineWorkflow({
  name: "gated",
  machine: setup({
    types: { context: {} as { params: Params; results: string[]; approval: unknown }, input: {} as Params },
    actors: { a: counted("a"), b: counted("b"), c: counted("c") },
    delays: { pause: ({ context }) => context.params.wait ?? 50 },
  }).createMachine({
    id: "gated",
    context: ({ input }) => ({ params: input, results: [], approval: null }),
    initial: "a",
    states: {
      a: { invoke: { src: "a", input: ({ context }) => ({ instance: context.params.instance }), onDone: { target: "b", actions: assign({ results: ({ context, event }) => [...context.results, event.output] }) } } },
      b: {
        invoke: {
          src: "b",
          input: ({ context }) => ({ instance: context.params.instance, hold: context.params.holdB ?? false, ...(context.params.failB ? { fail: context.params.failB } : {}) }),
          onDone: { target: "c", actions: assign({ results: ({ context, event }) => [...context.results, event.output] }) },
          onError: "failed",
        },
      },
      c: { invoke: { src: "c", input: ({ context }) => ({ instance: context.params.instance }), onDone: { target: "sleeping", actions: assign({ results: ({ context, event }) => [...context.results, event.output] }) } } },
      sleeping: { after: { pause: "approval" } },
      approval: {
        on: { approve: { target: "done", actions: assign({ approval: ({ event }) => (event as { payload?: unknown }).payload ?? null }) } },
        after: { 60000: "expired" },
      },
      done: { type: "final" },
      expired: { type: "final" },
      failed: { type: "final" },
    },
    output: ({ context }) => ({ results: context.results, approval: context.approval }),
  }),
  steps: { b: { retries: { limit: 2, delay: B_RETRY_DELAY, backoff: "constant" } } },
});

/** A code-first workflow with a sensitive step, for the redaction of what the API shows. */
export const secret = defineWorkflow({
  name: "secret",
  entrypoint: class extends WorkflowEntrypoint {
    async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
      const token = await step.do("mint", { sensitive: "output" }, async () => "s3cr3t");
      return token.length;
    }
  },
});

/** A machine saga: book, then charge, then ship, which fails; charge and book are undone, newest first. */
export const trip = defineWorkflow({
  name: "trip",
  machine: setup({
    types: { input: {} as { instance: string } },
    actors: {
      book: counted("book"),
      charge: counted("charge"),
      ship: counted("ship"),
      unbook: step<void, { input: { instance: string } }, TestEnv>(async ({ input, env }) => void (await ledger(env).ran(`${input.input.instance}:unbook`))),
      refund: step<void, { input: { instance: string } }, TestEnv>(async ({ input, env }) => void (await ledger(env).ran(`${input.input.instance}:refund`))),
    },
  }).createMachine({
    id: "trip",
    context: ({ input }) => ({ instance: input.instance }),
    initial: "booking",
    states: {
      booking: { invoke: { src: "book", input: ({ context }) => ({ instance: context.instance }), onDone: "charging" } },
      charging: { invoke: { src: "charge", input: ({ context }) => ({ instance: context.instance }), onDone: "shipping" } },
      shipping: { invoke: { src: "ship", input: ({ context }) => ({ instance: context.instance, fail: "always" as const }), onDone: "done" } },
      done: { type: "final" },
    },
  }),
  steps: { book: { compensate: "unbook" }, charge: { compensate: "refund" } },
});

/** A code-first workflow whose step returns a ReadableStream, for streamed outputs in SQLite. */
export const streamed = defineWorkflow({
  name: "streamed",
  entrypoint: class extends WorkflowEntrypoint<TestEnv, StreamParams> {
    async run(event: WorkflowEvent<StreamParams>, step: WorkflowStep) {
      return streamedBody(event, step, this.env);
    }
  },
});
