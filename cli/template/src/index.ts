import { assign, setup } from "xstate";
import { createWorkflows, defineWorkflow, NonRetryableError, step, WorkflowEntrypoint, type StepArgs, type WorkflowEvent, type WorkflowStep } from "durable-machines/worker";

/**
 * A workflow written as an XState machine: it writes a greeting in a durable
 * step (retried on failure, never run again once its result is in the log),
 * then waits up to a day for someone to `approve` it.
 */
const greeting = defineWorkflow({
  name: "greeting",
  machine: setup({
    types: {
      input: {} as { name: string },
      context: {} as { name: string; greeting: string | null; approvedBy: string | null },
      events: {} as { type: "approve"; payload: { by: string } },
    },
    actors: {
      compose: step(async ({ input }: StepArgs<{ name: string }>) => {
        if (!input.name) throw new NonRetryableError("a greeting needs a name");
        return `Hello, ${input.name}!`;
      }),
    },
  }).createMachine({
    id: "greeting",
    context: ({ input }) => ({ name: input.name, greeting: null, approvedBy: null }),
    initial: "composing",
    states: {
      composing: {
        invoke: {
          src: "compose",
          input: ({ context }) => ({ name: context.name }),
          onDone: { target: "awaitingApproval", actions: assign({ greeting: ({ event }) => event.output }) },
        },
      },
      awaitingApproval: {
        on: { approve: { target: "sent", actions: assign({ approvedBy: ({ event }) => event.payload.by }) } },
        after: { 86_400_000: "expired" },
      },
      sent: { type: "final" },
      expired: { type: "final" },
    },
    output: ({ context }) => ({ greeting: context.greeting, approvedBy: context.approvedBy }),
  }),
  steps: { compose: { retries: { limit: 3, delay: "2 seconds", backoff: "exponential" }, timeout: "30 seconds" } },
});

/**
 * A workflow written as for Cloudflare Workflows: `run()` and its steps, with only the import line changed.
 * Not exported: once `wrangler types` has typed this module, tsc checks that each export is a handler or a class
 * wrangler can bind, and this one is neither.
 */
class Signup extends WorkflowEntrypoint<Env, { email: string }> {
  async run(event: WorkflowEvent<{ email: string }>, step: WorkflowStep) {
    const account = await step.do("create account", async () => ({ id: `account-${event.payload.email.split("@")[0]}` }));
    const welcome = await step.do("send welcome email", { retries: { limit: 5, delay: "10 seconds", backoff: "exponential" } }, async () => `welcome sent to ${event.payload.email}`);
    return { accountId: account.id, welcome };
  }
}

export const workflows = createWorkflows({ workflows: [greeting, defineWorkflow({ name: "signup", entrypoint: Signup })] });

// The two Durable Object classes wrangler.toml binds: one object per instance, one registry per workflow.
// Declared as classes, not destructured constants, so they are types too, as `wrangler types` uses them.
export class WorkflowInstance extends workflows.WorkflowInstance {}
export class WorkflowRegistry extends workflows.WorkflowRegistry {}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    // Your own routes use the typed client...
    if (request.method === "POST" && url.pathname === "/signup") {
      const { email } = await request.json<{ email: string }>();
      const instance = await workflows.client(env).workflow("signup").create({ params: { email } });
      return Response.json({ id: instance.id }, { status: 202 });
    }
    // ...and the HTTP API (under /api, behind API_TOKEN) and the dashboard (at /) answer the rest.
    return workflows.fetch(request, env);
  },
} satisfies ExportedHandler<Env>;
