import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { durableObjectHost, introspectWorkflow, introspectWorkflowInstance } from "../testing";
import { TEST_HOOKS } from "../runtime/test-hooks";
import { workflows } from "./worker";

// How a user's test reaches the Durable Object host: their Worker's workflows, the test's env, the plugin's helper.
const host = durableObjectHost({ workflows, env, runInDurableObject });
const client = () => workflows.client(env);

describe("durable-machines/testing on the Durable Object host, inside workerd", () => {
  it("a machine: mocked step, sleep skipped, event delivered when its state waits", async () => {
    await using instance = await introspectWorkflowInstance(host, "tested-order", "do-order-1");
    await instance.modify(async (m) => {
      await m.mockStepResult({ name: "charge" }, "mocked receipt");
      await m.disableSleeps();
      await m.mockEvent({ type: "approve" });
    });
    await client().workflow("tested-order").create({ id: "do-order-1" });
    expect(await instance.waitForStepResult({ name: "charge" })).toBe("mocked receipt");
    await instance.waitForStatus("complete");
    expect(await instance.getOutput()).toEqual({ receipt: "mocked receipt" });
  });

  it("a machine: errors then a result, retry delays off; the event wait timed out by its state's name", async () => {
    await using instance = await introspectWorkflowInstance(host, "tested-order", "do-order-2");
    await instance.modify(async (m) => {
      await m.forceStepTimeout({ name: "charge" }, 1);
      await m.mockStepError({ name: "charge" }, new Error("gateway down"), 1);
      await m.mockStepResult({ name: "charge" }, "third time");
      await m.disableRetryDelays();
      await m.disableSleeps([{ name: "coolingOff" }]);
      await m.forceEventTimeout({ name: "awaitingApproval" });
    });
    const created = await client().workflow("tested-order").create({ id: "do-order-2" });
    await instance.waitForStatus("complete");
    expect(await created.status()).toMatchObject({ value: "cancelled", output: { receipt: "third time" } });
    const errors = (await created.history()).flatMap((r) => (r.type === "step.attempt_failed" ? [r.data.error.name] : []));
    expect(errors).toEqual(["WorkflowTimeoutError", "Error"]);
  });

  it("a code-first class: mocked step by key, sleep skipped, event delivered to its wait", async () => {
    await using instance = await introspectWorkflowInstance(host, "tested-checkout", "do-checkout-1");
    await instance.modify(async (m) => {
      await m.mockStepResult({ key: "do:charge-1" }, "mocked");
      await m.disableSleeps();
      await m.mockEvent({ type: "approve", payload: { by: "Ada" } });
    });
    await client().workflow("tested-checkout").create({ id: "do-checkout-1" });
    await instance.waitForStatus("complete");
    expect(await instance.getOutput()).toEqual({ receipt: "mocked", by: "Ada" });
  });

  it("a code-first class: the wait timed out fails the run with the timeout's error", async () => {
    await using instance = await introspectWorkflowInstance(host, "tested-checkout", "do-checkout-2");
    await instance.modify(async (m) => {
      await m.mockStepResult({ name: "charge" }, "mocked");
      await m.disableSleeps([{ name: "cool-off" }]);
      await m.forceEventTimeout({ name: "approval" });
    });
    await client().workflow("tested-checkout").create({ id: "do-checkout-2" });
    await instance.waitForStatus("errored");
    expect((await instance.getError()).name).toBe("WorkflowTimeoutError");
  });

  it("a DAG, through introspectWorkflow: every new instance mocked, its sleep task skipped, its event task answered", async () => {
    await using introspector = await introspectWorkflow(host, "tested-report");
    await introspector.modifyAll(async (m) => {
      await m.mockStepResult({ name: "fetch" }, { rows: 7 });
      await m.disableSleeps();
      await m.mockEvent({ type: "reviewed" });
    });
    await client().workflow("tested-report").create({ id: "do-report-1" });
    await client().workflow("tested-report").create({ id: "do-report-2" });
    const instances = await introspector.get();
    expect(instances.map((i) => i.id)).toEqual(["do-report-1", "do-report-2"]);
    for (const instance of instances) {
      await instance.waitForStatus("complete");
      expect(await instance.getOutput()).toBe(7);
    }
  });

  it("the hooks are out of RPC's reach: a stub has nothing under their symbol; only the object's own isolate reaches them", async () => {
    const stub = client().stub("tested-order", "do-order-rpc") as unknown as Record<PropertyKey, unknown>;
    expect(stub[TEST_HOOKS]).toBeUndefined();
    // In the object's own isolate, through the plugin's test-only door, the table is there.
    const table = await runInDurableObject(stub as unknown as DurableObjectStub, (object) => (object as unknown as Record<PropertyKey, unknown>)[TEST_HOOKS]);
    expect(table).toBeDefined();
  });
});
