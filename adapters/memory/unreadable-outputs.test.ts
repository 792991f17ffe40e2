import { describe, expect, it } from "vitest";
import { setup } from "xstate";
import { createManualClock, createMemoryHost, defineWorkflow, step, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../../index";

/**
 * A step output that throws when it is read (a getter, a proxy) cannot be
 * stored. The engine used to rethrow what it threw, out of the step's
 * settlement: nothing was recorded and the instance waited forever. It is
 * now the step's failure, as an output that is not JSON is.
 */
const UNREADABLE: [string, () => unknown][] = [
  ["a getter that throws", () => ({ get broken() { throw new Error("cannot read this"); } })],
  ["a proxy whose keys throw", () => new Proxy({}, { ownKeys: () => { throw new Error("cannot list this"); } })],
];

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function settle(host: { idle(): Promise<void> }) {
  for (let i = 0; i < 5; i++) {
    await flush();
    await host.idle();
  }
}

describe("step outputs that throw when read", () => {
  it.each(UNREADABLE)("a machine step whose output has %s fails for good, without retries, and the instance ends errored", async (_, make) => {
    let runs = 0;
    const machine = setup({ actors: { produce: step(async () => (runs++, make())) } }).createMachine({
      id: "unreadable",
      initial: "working",
      states: { working: { invoke: { src: "produce", onDone: "done" } }, done: { type: "final" } },
    });
    const host = createMemoryHost({ workflows: [defineWorkflow({ name: "unreadable", machine })], clock: createManualClock() });
    const instance = await host.workflow("unreadable").create({ id: "u" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { message: expect.stringMatching(/^cannot (read|list) this$/) } });
    expect((await instance.history()).find((r) => r.type === "step.failed")?.data).toMatchObject({ error: { nonRetryable: true } });
    expect(runs).toBe(1);
  });

  it.each(UNREADABLE)("a code-first step whose output has %s ends the instance as not serialisable", async (_, make) => {
    class Produces extends WorkflowEntrypoint {
      async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
        await step.do("produce", async () => make() as never);
      }
    }
    const host = createMemoryHost({ workflows: [defineWorkflow({ name: "produces", entrypoint: Produces })], clock: createManualClock() });
    const instance = await host.workflow("produces").create({ id: "p" });
    await settle(host);
    expect(await instance.status()).toMatchObject({
      status: "errored",
      error: { name: "WorkflowFatalError", message: 'The execution of the Workflow instance was terminated, as the step "produce" returned a value which is not serialisable' },
    });
  });
});
