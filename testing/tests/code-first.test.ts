import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, defineWorkflow, NonRetryableError, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "durable-machines";
import { introspectWorkflowInstance } from "durable-machines/testing";

/** What the bodies did, so a test can tell a mocked step from one that ran. */
const ran: string[] = [];

class Checkout extends WorkflowEntrypoint<unknown, { orderId: string }> {
  async run(event: WorkflowEvent<{ orderId: string }>, step: WorkflowStep) {
    const receipt = await step.do("charge", { retries: { limit: 3, delay: "1 hour", backoff: "constant" } }, async () => {
      ran.push("charge");
      return `receipt for ${event.payload.orderId}`;
    });
    await step.sleep("cool-off", "1 day");
    try {
      const approval = await step.waitForEvent<{ by: string }>("approval", { type: "approve", timeout: "1 hour" });
      return { receipt, approvedBy: approval.payload.by };
    } catch (error) {
      return { receipt, approvedBy: null, why: (error as Error).name };
    }
  }
}

const checkout = defineWorkflow({ name: "checkout", entrypoint: Checkout });
// The clock never moves in these tests: whatever would wait on it, the test made immediate.
const setup = () => createMemoryHost({ workflows: [checkout], clock: createManualClock() });

describe("durable-machines/testing on a code-first workflow (memory host)", () => {
  it("mocks a step's result, skips the sleep and delivers the event: the body never runs, the clock never moves", async () => {
    const host = setup();
    ran.length = 0;
    await using instance = await introspectWorkflowInstance(host, "checkout", "c-1");
    await instance.modify(async (m) => {
      await m.mockStepResult({ name: "charge" }, "mocked receipt");
      await m.disableSleeps();
      await m.mockEvent({ type: "approve", payload: { by: "Ada" } });
    });
    await host.workflow("checkout").create({ id: "c-1", params: { orderId: "A-1" } });
    expect(await instance.waitForStepResult({ name: "charge" })).toBe("mocked receipt");
    await instance.waitForStatus("complete");
    expect(await instance.getOutput()).toEqual({ receipt: "mocked receipt", approvedBy: "Ada" });
    expect(ran).toEqual([]);
  });

  it("fails a step twice with the test's error, retried at once, then runs its body; found by key", async () => {
    const host = setup();
    ran.length = 0;
    await using instance = await introspectWorkflowInstance(host, "checkout", "c-2");
    await instance.modify(async (m) => {
      await m.mockStepError({ key: "do:charge-1" }, new Error("card declined"), 2);
      await m.disableRetryDelays();
      await m.disableSleeps([{ name: "cool-off" }]);
      await m.forceEventTimeout({ name: "approval" });
    });
    const created = await host.workflow("checkout").create({ id: "c-2", params: { orderId: "A-2" } });
    await instance.waitForStatus("complete");
    expect(await instance.getOutput()).toEqual({ receipt: "receipt for A-2", approvedBy: null, why: "WorkflowTimeoutError" });
    expect(ran).toEqual(["charge"]);
    const failures = (await created.history()).filter((r) => r.type === "step.attempt_failed");
    expect(failures.map((r) => r.type === "step.attempt_failed" && r.data.error.message)).toEqual(["card declined", "card declined"]);
  });

  it("forces a step timeout on every attempt: the step fails with the timeout's error, which waitForStepResult rejects with", async () => {
    const host = setup();
    await using instance = await introspectWorkflowInstance(host, "checkout", "c-3");
    await instance.modify(async (m) => {
      await m.forceStepTimeout({ name: "charge" });
      await m.disableRetryDelays();
    });
    await host.workflow("checkout").create({ id: "c-3", params: { orderId: "A-3" } });
    await expect(instance.waitForStepResult({ name: "charge" })).rejects.toMatchObject({ name: "WorkflowTimeoutError" });
    await instance.waitForStatus("errored");
    expect((await instance.getError()).name).toBe("WorkflowTimeoutError");
    await expect(instance.waitForStatus("complete")).rejects.toMatchObject({ code: "testing.unexpected_status" });
  });

  it("a mocked NonRetryableError is not retried", async () => {
    const host = setup();
    await using instance = await introspectWorkflowInstance(host, "checkout", "c-4");
    await instance.modify((m) => m.mockStepError({ name: "charge" }, new NonRetryableError("no such card")));
    const created = await host.workflow("checkout").create({ id: "c-4", params: { orderId: "A-4" } });
    await instance.waitForStatus("errored");
    expect(await instance.getError()).toEqual({ name: "NonRetryableError", message: "no such card" });
    expect((await created.history()).filter((r) => r.type === "step.started")).toHaveLength(1);
  });

  it("after dispose the instance runs as written: a later instance of the same id is not modified", async () => {
    const host = setup();
    ran.length = 0;
    const instance = await introspectWorkflowInstance(host, "checkout", "c-5");
    await instance.modify((m) => m.mockStepResult({ name: "charge" }, "mocked"));
    await instance.dispose();
    const created = await host.workflow("checkout").create({ id: "c-5", params: { orderId: "A-5" } });
    await host.idle();
    expect(ran).toEqual(["charge"]);
    expect(await created.status()).toMatchObject({ status: "waiting", value: ["sleep:cool-off-1"] });
  });
});
