import { assign, setup } from "xstate";
import { dagTasks, defineDag, defineWorkflow, NonRetryableError, step, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../worker";

/** Each body fails for good if it runs: a test that mocks it and sees the instance complete knows it did not. */
const unreachable = (): never => {
  throw new NonRetryableError("the body ran");
};

/** The workflows of test/testing-helpers.test.ts: one of each form, each with a step, a sleep and an event wait. */
export const testedOrder = defineWorkflow({
  name: "tested-order",
  machine: setup({
    types: { context: {} as { receipt?: string } },
    actors: { charge: step(async () => unreachable()) },
  }).createMachine({
    id: "tested-order",
    context: {},
    initial: "charging",
    states: {
      charging: { invoke: { src: "charge", onDone: { target: "coolingOff", actions: assign({ receipt: ({ event }) => event.output as string }) } } },
      coolingOff: { after: { 3_600_000: "awaitingApproval" } },
      awaitingApproval: { on: { approve: "shipped" }, after: { 86_400_000: "cancelled" } },
      shipped: { type: "final" },
      cancelled: { type: "final" },
    },
    output: ({ context }) => ({ receipt: context.receipt ?? null }),
  }),
});

class TestedCheckout extends WorkflowEntrypoint {
  async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
    const receipt = await step.do("charge", { retries: { limit: 2, delay: "1 hour", backoff: "constant" } }, async () => unreachable());
    await step.sleep("cool-off", "1 day");
    const approval = await step.waitForEvent<{ by: string }>("approval", { type: "approve", timeout: "1 hour" });
    return { receipt, by: approval.payload.by };
  }
}
export const testedCheckout = defineWorkflow({ name: "tested-checkout", entrypoint: TestedCheckout });

export const testedReport = defineDag({
  name: "tested-report",
  tasks: dagTasks()
    .task("fetch", { run: () => unreachable() as { rows: number } })
    .sleep("settle", { duration: "1 day" })
    .waitForEvent("review", { type: "reviewed", timeout: "2 days" })
    .task("publish", { needs: ["fetch", "settle"], run: ({ fetch }) => fetch.rows }),
  output: ({ publish }) => publish,
});
