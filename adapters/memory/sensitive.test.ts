import { expect, it } from "vitest";
import { createManualClock, createMemoryHost, defineWorkflow, inspectionEvents, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../../index";

class Secret extends WorkflowEntrypoint {
  async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
    const token = await step.do("mint", { sensitive: "output" }, async () => "s3cr3t");
    return { length: token.length };
  }
}

it("a sensitive step's output reaches run() but shows as [REDACTED] in subscribe() and inspection", async () => {
  const def = defineWorkflow({ name: "secret", entrypoint: Secret });
  const host = createMemoryHost({ workflows: [def], clock: createManualClock() });
  const instance = await host.workflow("secret").create({ id: "s" });
  await host.idle();
  await new Promise((resolve) => setImmediate(resolve));
  expect((await instance.status()).output).toEqual({ length: 6 });
  const subscription = await instance.subscribe({ filter: ["step_completed"] });
  const completed = await subscription.next();
  expect(completed.value).toMatchObject({ type: "step_completed", stepName: "mint-1", output: "[REDACTED]" });
  const history = await instance.history();
  const shown = JSON.stringify(inspectionEvents(def, history));
  expect(shown).toContain("[REDACTED]");
  expect(shown).not.toContain("s3cr3t");
  host.crash();
  expect((await instance.status()).output).toEqual({ length: 6 });
});

it("history() shows a sensitive output as [REDACTED] too, while a replay after a crash still hands run() the real value", async () => {
  class Replayed extends WorkflowEntrypoint {
    async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
      const token = await step.do("mint", { sensitive: "output" }, async () => "s3cr3t");
      await step.waitForEvent("go", { type: "go" });
      return { token };
    }
  }
  const host = createMemoryHost({ workflows: [defineWorkflow({ name: "replayed", entrypoint: Replayed })], clock: createManualClock() });
  const instance = await host.workflow("replayed").create({ id: "r" });
  await host.idle();
  await new Promise((resolve) => setImmediate(resolve));
  const shown = JSON.stringify(await instance.history());
  expect(shown).toContain('"output":"[REDACTED]"');
  expect(shown).not.toContain("s3cr3t");
  host.crash();
  await instance.sendEvent({ type: "go" });
  await host.idle();
  await new Promise((resolve) => setImmediate(resolve));
  expect(await instance.status()).toMatchObject({ status: "complete", output: { token: "s3cr3t" } });
});
