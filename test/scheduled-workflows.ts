import { setup } from "xstate";
import { defineWorkflow, WorkflowEntrypoint, type CronFiring, type WorkflowEvent } from "../index";

/** A machine started by two crons, which finishes at once with the firing it was given as input. */
export const cronMachine = defineWorkflow({
  name: "cron-machine",
  schedules: ["*/5 * * * *", "0 3 * * MON"],
  machine: setup({ types: { input: {} as { schedule: CronFiring }, context: {} as { schedule: CronFiring } } }).createMachine({
    id: "cron-machine",
    context: ({ input }) => ({ schedule: input.schedule }),
    initial: "done",
    states: { done: { type: "final" } },
    output: ({ context }) => context.schedule,
  }),
});

/** A code-first run started by one cron, written as for Cloudflare: it returns its event's schedule. */
export const cronReport = defineWorkflow({
  name: "cron-report",
  schedules: "*/5 * * * *",
  entrypoint: class extends WorkflowEntrypoint {
    async run(event: WorkflowEvent<unknown>) {
      return event.schedule ?? null;
    }
  },
});
