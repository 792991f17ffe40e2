import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, dagTasks, defineDag } from "durable-machines";
import { introspectWorkflowInstance } from "durable-machines/testing";

const fetched: string[] = [];

const report = defineDag({
  name: "report",
  tasks: dagTasks<{ source: string }>()
    .task("fetch", {
      retries: { limit: 3, delay: "10 minutes", backoff: "constant" },
      run: (_, { params }) => {
        fetched.push(params.source);
        return { rows: 3 };
      },
    })
    .sleep("settle", { duration: "1 day" })
    .waitForEvent("review", { type: "reviewed", timeout: "2 days" })
    .task("publish", { needs: ["fetch", "settle", "review"], run: ({ fetch, review }) => ({ rows: fetch.rows, review }) }),
  output: ({ publish }) => publish,
});

const setupHost = () => createMemoryHost({ workflows: [report], clock: createManualClock() });

describe("durable-machines/testing on a DAG (memory host)", () => {
  it("mocks a task, skips its sleep task and delivers its event task's event: each named by task", async () => {
    const host = setupHost();
    fetched.length = 0;
    await using instance = await introspectWorkflowInstance(host, "report", "r-1");
    await instance.modify(async (m) => {
      await m.mockStepResult({ name: "fetch" }, { rows: 42 });
      await m.disableSleeps([{ name: "settle" }]);
      await m.mockEvent({ type: "reviewed", payload: { ok: true } });
    });
    await host.workflow("report").create({ id: "r-1", params: { source: "orders" } });
    expect(await instance.waitForStepResult({ name: "fetch" })).toEqual({ rows: 42 });
    expect(await instance.waitForStepResult({ key: "publish#1" })).toEqual({ rows: 42, review: { ok: true } });
    await instance.waitForStatus("complete");
    expect(fetched).toEqual([]);
  });

  it("fails a task twice with its retry delays off, then runs it", async () => {
    const host = setupHost();
    fetched.length = 0;
    await using instance = await introspectWorkflowInstance(host, "report", "r-2");
    await instance.modify(async (m) => {
      await m.mockStepError({ name: "fetch" }, new Error("throttled"), 2);
      await m.disableRetryDelays();
      await m.disableSleeps();
      await m.mockEvent({ type: "reviewed" });
    });
    const created = await host.workflow("report").create({ id: "r-2", params: { source: "orders" } });
    expect(await instance.waitForStepResult({ name: "fetch" })).toEqual({ rows: 3 });
    await instance.waitForStatus("complete");
    expect(fetched).toEqual(["orders"]);
    expect((await created.history()).filter((r) => r.type === "step.attempt_failed")).toHaveLength(2);
  });

  it("times its event task out: the DAG fails as a real timeout fails it", async () => {
    const host = setupHost();
    await using instance = await introspectWorkflowInstance(host, "report", "r-3");
    await instance.modify((m) => m.forceEventTimeout({ name: "review" }));
    await host.workflow("report").create({ id: "r-3", params: { source: "orders" } });
    await instance.waitForStatus("errored");
    expect((await instance.getError()).name).toBe("WorkflowTimeoutError");
  });
});
