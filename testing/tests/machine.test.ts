import { assign, setup } from "xstate";
import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, defineWorkflow, step } from "durable-machines";
import { introspectWorkflow, introspectWorkflowInstance } from "durable-machines/testing";

const charged: string[] = [];

const order = setup({
  types: { context: {} as { orderId: string; receipt?: string }, input: {} as { orderId: string } },
  actors: {
    charge: step(async ({ input }: { input: { orderId: string } }) => {
      charged.push(input.orderId);
      return `receipt for ${input.orderId}`;
    }),
  },
}).createMachine({
  id: "order",
  context: ({ input }) => ({ orderId: input.orderId }),
  initial: "charging",
  states: {
    charging: {
      invoke: { src: "charge", input: ({ context }) => ({ orderId: context.orderId }), onDone: { target: "coolingOff", actions: assign({ receipt: ({ event }) => event.output }) } },
    },
    // A sleep: an `after` in a state that takes no event.
    coolingOff: { after: { 3_600_000: "awaitingApproval" } },
    // An event wait with its timeout.
    awaitingApproval: { on: { approve: "shipped" }, after: { 86_400_000: "cancelled" } },
    shipped: { type: "final" },
    cancelled: { type: "final" },
  },
  output: ({ context }) => ({ receipt: context.receipt ?? null }),
});

const workflow = defineWorkflow({ name: "order", machine: order, steps: { charge: { retries: { limit: 2, delay: "1 hour", backoff: "constant" } } } });
const setupHost = () => createMemoryHost({ workflows: [workflow], clock: createManualClock() });

describe("durable-machines/testing on a machine (memory host)", () => {
  it("mocks the step by its actor's name, skips the sleep and delivers the event once the machine waits for it", async () => {
    const host = setupHost();
    charged.length = 0;
    await using instance = await introspectWorkflowInstance(host, "order", "o-1");
    await instance.modify(async (m) => {
      await m.mockStepResult({ name: "charge" }, "mocked receipt");
      await m.disableSleeps();
      await m.mockEvent({ type: "approve" });
    });
    const created = await host.workflow("order").create({ id: "o-1", params: { orderId: "A-1" } });
    expect(await instance.waitForStepResult({ name: "charge" })).toBe("mocked receipt");
    await instance.waitForStatus("complete");
    expect(await created.status()).toMatchObject({ value: "shipped", output: { receipt: "mocked receipt" } });
    expect(charged).toEqual([]);
    // The event came once the machine waited for it, not while it was charging: the log has it after the sleep fired.
    const types = (await created.history()).map((r) => r.type);
    expect(types.indexOf("event.received")).toBeGreaterThan(types.indexOf("timer.fired"));
  });

  it("all sleeps disabled leaves the event wait's timeout alone; forceEventTimeout by the state's name times it out", async () => {
    const host = setupHost();
    await using instance = await introspectWorkflowInstance(host, "order", "o-2");
    await instance.modify((m) => m.disableSleeps());
    const created = await host.workflow("order").create({ id: "o-2", params: { orderId: "A-2" } });
    await instance.waitForStatus("waiting");
    await instance.waitForStepResult({ name: "charge" });
    await host.idle();
    expect(await created.status()).toMatchObject({ status: "waiting", value: "awaitingApproval" });

    await using timedOut = await introspectWorkflowInstance(host, "order", "o-3");
    await timedOut.modify(async (m) => {
      await m.disableSleeps([{ name: "coolingOff" }]);
      await m.forceEventTimeout({ name: "awaitingApproval" });
    });
    const other = await host.workflow("order").create({ id: "o-3", params: { orderId: "A-3" } });
    await timedOut.waitForStatus("complete");
    expect(await other.status()).toMatchObject({ value: "cancelled" });
  });

  it("errors then a timeout, retried at once, then the body runs; a step failing for good rejects waitForStepResult", async () => {
    const host = setupHost();
    charged.length = 0;
    await using instance = await introspectWorkflowInstance(host, "order", "o-4");
    await instance.modify(async (m) => {
      await m.mockStepError({ name: "charge" }, new Error("gateway down"), 1);
      await m.forceStepTimeout({ name: "charge" }, 1);
      await m.disableRetryDelays([{ name: "charge" }]);
    });
    const created = await host.workflow("order").create({ id: "o-4", params: { orderId: "A-4" } });
    expect(await instance.waitForStepResult({ key: "0.order.charging#1" })).toBe("receipt for A-4");
    expect(charged).toEqual(["A-4"]);
    const errors = (await created.history()).flatMap((r) => (r.type === "step.attempt_failed" ? [r.data.error.name] : []));
    expect(errors).toEqual(["Error", "WorkflowTimeoutError"]);

    await using failing = await introspectWorkflowInstance(host, "order", "o-5");
    await failing.modify(async (m) => {
      await m.mockStepError({ name: "charge" }, new Error("card declined"));
      await m.disableRetryDelays();
    });
    await host.workflow("order").create({ id: "o-5", params: { orderId: "A-5" } });
    await expect(failing.waitForStepResult({ name: "charge" })).rejects.toThrow("card declined");
    await failing.waitForStatus("errored");
  });

  it("introspectWorkflow modifies every instance created after it, whatever their ids, until disposed", async () => {
    const host = setupHost();
    charged.length = 0;
    const before = await host.workflow("order").create({ params: { orderId: "before" } });
    const introspector = await introspectWorkflow(host, "order");
    await introspector.modifyAll(async (m) => {
      await m.mockStepResult({ name: "charge" }, "mocked");
      await m.disableSleeps();
      await m.forceEventTimeout({ name: "awaitingApproval" });
    });
    await host.workflow("order").create({ params: { orderId: "x" } });
    await host.workflow("order").create({ params: { orderId: "y" } });
    const instances = await introspector.get();
    expect(instances).toHaveLength(2);
    expect(instances.map((i) => i.id)).not.toContain(before.id);
    for (const instance of instances) {
      await instance.waitForStatus("complete");
      expect(await instance.getOutput()).toEqual({ receipt: "mocked" });
    }
    await introspector.dispose();
    await host.workflow("order").create({ params: { orderId: "after" } });
    await host.idle();
    expect(charged).toEqual(["before", "after"]);
  });

  it("refuses what it cannot apply, with a typed error", async () => {
    const host = setupHost();
    const instance = await introspectWorkflowInstance(host, "order", "o-6");
    await expect(instance.modify((m) => m.mockStepResult({ name: "charge", index: 0 }, 1))).rejects.toMatchObject({ code: "testing.invalid_modifier" });
    await expect(
      instance.modify(async (m) => {
        await m.mockStepResult({ name: "charge" }, 1);
        await m.mockStepResult({ name: "charge", index: 1 }, 2);
      }),
    ).rejects.toMatchObject({ code: "testing.invalid_modifier" });
    await expect(instance.modify((m) => m.mockStepError({ name: "charge" }, new Error("x"), 0))).rejects.toMatchObject({ code: "testing.invalid_modifier" });
    await expect(introspectWorkflowInstance(host, "no-such", "x")).rejects.toMatchObject({ code: "workflow.not_found" });
    await expect(instance.getOutput()).rejects.toMatchObject({ code: "testing.unexpected_status" });
  });
});
