import { assign, setup } from "xstate";
import { createManualClock, createMemoryHost, defineWorkflow, NonRetryableError, step, type StepArgs } from "durable-machines";

const order = setup({
  types: { context: {} as { orderId: string; receipt?: string }, input: {} as { orderId: string } },
  actors: {
    // stepId is stable across attempts and replays: pass it on as an idempotency key.
    charge: step(async ({ input, stepId }: StepArgs<{ orderId: string }>) => {
      if (!input.orderId) throw new NonRetryableError("no order id");
      return `receipt for ${input.orderId} (${stepId})`;
    }),
  },
}).createMachine({
  id: "order",
  context: ({ input }) => ({ orderId: input.orderId }),
  initial: "charging",
  states: {
    charging: {
      invoke: {
        src: "charge",
        input: ({ context }) => ({ orderId: context.orderId }),
        onDone: { target: "awaitingApproval", actions: assign({ receipt: ({ event }) => event.output }) },
      },
    },
    awaitingApproval: { on: { approve: "shipped" }, after: { 86_400_000: "cancelled" } },
    shipped: { type: "final" },
    cancelled: { type: "final" },
  },
  output: ({ context }) => ({ receipt: context.receipt ?? null }),
});

const workflow = defineWorkflow({
  name: "order",
  machine: order,
  steps: { charge: { retries: { limit: 3, delay: "2 seconds", backoff: "exponential" }, timeout: "30 seconds" } },
});

const host = createMemoryHost({ workflows: [workflow], clock: createManualClock() });
const instance = await host.workflow("order").create({ id: "order-1", params: { orderId: "A-17" } });
await host.idle();
await instance.sendEvent({ type: "approve" });
console.log(await instance.status()); // { status: "complete", output: { receipt: "receipt for A-17 (0.order.charging#1)" }, value: "shipped" }
console.log(await instance.history()); // instance.created, step.started, step.succeeded, timer.started, event.received, …
