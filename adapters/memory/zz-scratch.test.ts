import { expect, it } from "vitest";
import { createManualClock, createMemoryHost, defineWorkflow, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../../index";
const flush = () => new Promise<void>((r) => setImmediate(r));
async function settle(host: { idle(): Promise<void> }) { for (let i = 0; i < 5; i++) { await flush(); await host.idle(); } }
it("non-serialisable uncaught status as the reference table says", async () => {
  class Fn extends WorkflowEntrypoint {
    async run(_e: WorkflowEvent<unknown>, step: WorkflowStep) {
      await step.do("fn", async () => (() => 1) as never);
    }
  }
  const host = createMemoryHost({ workflows: [defineWorkflow({ name: "fn", entrypoint: Fn })], clock: createManualClock(0) });
  const i = await host.workflow("fn").create({ id: "x" });
  await settle(host);
  expect(await i.status()).toMatchObject({ status: "errored", error: { name: "WorkflowFatalError", message: 'The execution of the Workflow instance was terminated, as the step "fn" returned a value which is not serialisable' } });
});
it("starter: first step returns the event", async () => {
  class S extends WorkflowEntrypoint {
    async run(event: WorkflowEvent<unknown>, step: WorkflowStep) {
      const files = await step.do("my first step", async () => ({ inputParams: event, files: ["a.pdf"] }));
      return files.files;
    }
  }
  const host = createMemoryHost({ workflows: [defineWorkflow({ name: "s", entrypoint: S })], clock: createManualClock(0) });
  const i = await host.workflow("s").create({ id: "x", params: { email: "a@b.c" } });
  await settle(host);
  expect(await i.status()).toMatchObject({ status: "complete" });
});
