import { assign, setup } from "xstate";
import { MAX_PAYLOAD_BYTES } from "../core/json";
import { defineWorkflow } from "../index";

/** How many events of about 1 MiB a test sends: together far past workerd's 32 MiB limit on one RPC answer. */
export const LARGE_EVENTS = 40;

/** An event whose payload is just under the 1 MiB limit, so each one is accepted. */
export const largeEvent = (i: number) => ({ type: "note", payload: { i, text: "x".repeat(MAX_PAYLOAD_BYTES - 64) } });

/** A machine that counts any number of `note` events without keeping them, until `stop`: its log grows, its state does not. */
export const listener = defineWorkflow({
  name: "listener",
  machine: setup({ types: { context: {} as { notes: number } } }).createMachine({
    id: "listener",
    context: { notes: 0 },
    initial: "listening",
    states: {
      listening: { on: { note: { actions: assign({ notes: ({ context }) => context.notes + 1 }) }, stop: "done" } },
      done: { type: "final" },
    },
  }),
});

/** A machine that takes only `stop`: every `note` it is sent waits in its inbox. */
export const deaf = defineWorkflow({
  name: "deaf",
  machine: setup({}).createMachine({ id: "deaf", initial: "waiting", states: { waiting: { on: { stop: "done" } }, done: { type: "final" } } }),
});
