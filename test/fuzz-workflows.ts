import { defineWorkflow, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../index";

/** The route fuzz's machine: it prepares, then waits for an `approve` event, with no timer. The Node fuzz runs the same. */
export { gate } from "../adapters/worker/api/tests/api-host";

/**
 * The route fuzz's code-first workflow, with nothing that waits on real time
 * while a test runs: its step "mint token" fails its first attempt when the
 * params say `busy`, and is retried an hour later; then it waits a day for an
 * `approve` event, whose payload it returns. So an instance stands still
 * between retries, or waiting for an event, until a request moves it.
 */
export const retryLater = defineWorkflow({
  name: "retry-later",
  entrypoint: class extends WorkflowEntrypoint<unknown, { busy?: boolean } | null> {
    async run(event: WorkflowEvent<{ busy?: boolean } | null>, step: WorkflowStep) {
      const busy = event.payload?.busy === true;
      await step.do("mint token", { retries: { limit: 1, delay: "1 hour", backoff: "constant" } }, async (ctx) => {
        if (busy && ctx.attempt === 1) throw new Error("the token service is busy");
        return "token";
      });
      const approval = await step.waitForEvent<unknown>("approval", { type: "approve", timeout: "1 day" });
      return { approval: approval.payload ?? null };
    }
  },
});
