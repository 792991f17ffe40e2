import { assign, setup } from "xstate";
import { dagTasks, defineDag, defineWorkflow, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../../index";

/**
 * One workflow of each kind, each declaring its types the way users do,
 * for the typed client's tests on both hosts (test/node/typed-client.test.ts,
 * test/typed-client.test.ts).
 */

export interface OrderParams {
  orderId: string;
}
export type OrderEvent = { type: "approve"; payload: { by: string } } | { type: "cancel" };
export interface OrderOutput {
  receipt: string;
}

/** A machine: its input, events and output are declared in setup(). */
export const order = defineWorkflow({
  name: "order",
  machine: setup({
    types: { input: {} as OrderParams, context: {} as { orderId: string; by: string | null }, events: {} as OrderEvent, output: {} as OrderOutput },
  }).createMachine({
    id: "order",
    context: ({ input }) => ({ orderId: input.orderId, by: null }),
    initial: "waiting",
    states: {
      waiting: {
        on: {
          approve: { target: "approved", actions: assign({ by: ({ event }) => event.payload.by }) },
          cancel: "cancelled",
        },
      },
      approved: { type: "final" },
      cancelled: { type: "final" },
    },
    output: ({ context }) => ({ receipt: context.by === null ? `${context.orderId} cancelled` : `${context.orderId} approved by ${context.by}` }),
  }),
});

export interface SignupParams {
  email: string;
}

/** A code-first class: its params from WorkflowEntrypoint's second type argument, its output from run(). */
class Signup extends WorkflowEntrypoint<unknown, SignupParams> {
  async run(event: WorkflowEvent<SignupParams>, step: WorkflowStep): Promise<{ welcomed: string }> {
    const confirmed = await step.waitForEvent<{ code: string }>("confirmation", { type: "confirm" });
    return { welcomed: `${event.payload.email} (${confirmed.payload.code})` };
  }
}

export const signup = defineWorkflow({ name: "signup", entrypoint: Signup });

/** A DAG: params from dagTasks<Params>(), events from its gates, output from `output`. */
export const report = defineDag({
  name: "report",
  tasks: dagTasks<{ day: string }>()
    .task("count", { run: (_, { params }) => params.day.length })
    .waitForEvent("approval", { needs: ["count"], type: "sign-off", payload: {} as { by: string } }),
  output: ({ count, approval }, params) => ({ day: params.day, rows: count, by: approval.by }),
});

/** A Python workflow: its run() is Python, so only its name is known here. */
export const scorer = defineWorkflow({ name: "scorer", python: {} });
