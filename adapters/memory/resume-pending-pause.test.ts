import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, defineWorkflow, WorkflowEntrypoint, type LogRecord, type WorkflowEvent, type WorkflowStep } from "../../index";

/**
 * A pause asked for while steps run only takes effect once none runs (status waitingForPause until then). A
 * resume() before that cancels it: Cloudflare's engine keeps the live run() going, so run() is not replayed (its
 * body counts 1, not 2) and the steps it asked for meanwhile start at the resume. test/conformance.test.ts compares
 * the two engines.
 */

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Lets run() and the callbacks reach their next await, without waiting for callbacks the test holds open. */
async function spin(times = 5) {
  for (let i = 0; i < times; i++) await flush();
}

/** A promise the test settles: a callback that stays in flight until told. */
function gate<T>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

function hostFor(body: (event: WorkflowEvent<unknown>, step: WorkflowStep) => Promise<unknown>) {
  const workflow = defineWorkflow({
    name: "pausable",
    entrypoint: class extends WorkflowEntrypoint {
      async run(event: WorkflowEvent<unknown>, step: WorkflowStep) {
        return body(event, step);
      }
    },
  });
  const host = createMemoryHost({ workflows: [workflow], clock: createManualClock(1_000_000) });
  return { host, client: host.workflow("pausable") };
}

const types = (log: LogRecord[]) => log.map((record) => record.type);

describe("resume() while the pause waits for running steps", () => {
  it("keeps the live run(): it is not replayed, and each step runs once", async () => {
    const slow = gate<string>();
    const calls = { slow: 0, next: 0 };
    let runs = 0;
    const { host, client } = hostFor(async (_event, step) => {
      runs++;
      const a = await step.do("slow", async () => (calls.slow++, slow.promise));
      return step.do("next", async () => (calls.next++, `${a} then next`));
    });
    const instance = await client.create({ id: "cancelled-pause" });
    await spin();
    await instance.pause();
    expect((await instance.status()).status).toBe("waitingForPause");
    await instance.resume();
    expect((await instance.status()).status).toBe("running");
    slow.open("slow done");
    await spin();
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: "slow done then next" });
    expect(runs).toBe(1);
    expect(calls).toEqual({ slow: 1, next: 1 });
    expect(types(await instance.history())).toEqual([
      "instance.created",
      "step.started",
      "instance.paused",
      "instance.resumed",
      "step.succeeded",
      "step.started",
      "step.succeeded",
      "instance.completed",
    ]);
  });

  it("a step run() asked for while the pause waited starts at the resume, once", async () => {
    const slow = gate<string>();
    const calls = { slow: 0, quick: 0, later: 0 };
    let runs = 0;
    const { host, client } = hostFor(async (_event, step) => {
      runs++;
      const held = step.do("slow", async () => (calls.slow++, slow.promise));
      const quick = await step.do("quick", async () => (calls.quick++, "quick"));
      const later = await step.do("later", async () => (calls.later++, `${quick} then later`));
      return [await held, later];
    });
    const instance = await client.create({ id: "held-call" });
    await instance.pause();
    await spin();
    // "quick" finished while "slow" still ran: run() went on and asked for "later", which waits for the resume.
    expect(calls).toEqual({ slow: 1, quick: 1, later: 0 });
    expect((await instance.status()).status).toBe("waitingForPause");
    await instance.resume();
    await spin();
    expect(calls).toEqual({ slow: 1, quick: 1, later: 1 });
    slow.open("slow done");
    await spin();
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: ["slow done", "quick then later"] });
    expect(runs).toBe(1);
  });

  it("a pause that took effect (the last step ended) is still resumed by replaying run(), as on Cloudflare", async () => {
    const slow = gate<string>();
    let runs = 0;
    const { host, client } = hostFor(async (_event, step) => {
      runs++;
      const a = await step.do("slow", async () => slow.promise);
      return step.do("next", async () => `${a} then next`);
    });
    const instance = await client.create({ id: "effective-pause" });
    await spin();
    await instance.pause();
    slow.open("slow done");
    await spin();
    expect((await instance.status()).status).toBe("paused");
    await instance.resume();
    await spin();
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: "slow done then next" });
    expect(runs).toBe(2);
  });
});
