import { defineWorkflow, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../index";

/** Waits for `ping` `n` times in a row, each wait its own step, then completes with how many it took: live events on demand. */
export const pinger = defineWorkflow({
  name: "pinger",
  entrypoint: class extends WorkflowEntrypoint<unknown, { n: number }> {
    async run(event: WorkflowEvent<{ n: number }>, step: WorkflowStep) {
      for (let i = 1; i <= event.payload.n; i++) await step.waitForEvent(`ping ${i}`, { type: "ping", timeout: "1 hour" });
      return event.payload.n;
    }
  },
});
