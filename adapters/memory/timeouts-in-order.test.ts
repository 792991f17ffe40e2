import { describe, expect, it } from "vitest";
import { setup } from "xstate";
import {
  createManualClock,
  createMemoryHost,
  defineWorkflow,
  step,
  WorkflowEntrypoint,
  type AnyWorkflowDefinition,
  type LogRecord,
  type ManualClock,
  type WorkflowEvent,
  type WorkflowStep,
} from "../../index";

/**
 * A step's timeout that falls inside one clock.advance() acts at its time, before a timer due later in the same
 * advance: one advance of 5 s records what five advances of 1 s record. The memory host's manual clock fires its
 * timers synchronously, so a timeout that acted only once promises settled acted after the whole advance.
 */

const START = 1_000_000;
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Lets promises settle; not host.idle(), which would wait for steps that end only when the clock moves. */
async function settle() {
  for (let i = 0; i < 5; i++) await flush();
}

/** Runs one instance, moving the clock `total` ms in steps of `by`, settling between them; its log, as [type, ms after start, key]. */
async function runFor(workflow: AnyWorkflowDefinition, total: number, by: number) {
  const clock: ManualClock = createManualClock(START);
  const host = createMemoryHost({ workflows: [workflow], clock });
  const instance = await host.workflow(workflow.name).create({ id: "timed" });
  await settle();
  for (let moved = 0; moved < total; moved += by) {
    clock.advance(by);
    await settle();
  }
  const log = await instance.history();
  return { status: await instance.status(), timeline: log.map(timelineEntry) };
}

const timelineEntry = (record: LogRecord) => {
  const data = record.data as { key?: string; id?: string };
  return [record.type, record.at - START, data.key ?? data.id ?? null];
};

describe("a step timeout inside one long advance acts at its time", () => {
  it("code-first: a 1 s timeout and a 2 s sleep raced, advanced 5 s at once: the step's failure is recorded first, and run() sees it", async () => {
    const workflow = defineWorkflow({
      name: "raced",
      entrypoint: class extends WorkflowEntrypoint {
        async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
          return Promise.race([
            step.do("slow", { timeout: "1 second", retries: { limit: 0, delay: 0 } }, () => new Promise<string>(() => undefined)).then(
              () => "the step finished",
              (error: Error) => `the step failed: ${error.message}`,
            ),
            step.sleep("nap", "2 seconds").then(() => "the sleep ended"),
          ]);
        }
      },
    });
    const stepwise = await runFor(workflow, 5_000, 1_000);
    const atOnce = await runFor(workflow, 5_000, 5_000);
    expect(stepwise.status).toMatchObject({ status: "complete", output: "the step failed: Execution timed out after 1000ms" });
    expect(atOnce.status).toMatchObject({ status: stepwise.status.status, output: stepwise.status.output });
    const failed = ["step.attempt_failed", 1_000, "do:slow-1"];
    expect(stepwise.timeline).toContainEqual(failed);
    expect(atOnce.timeline).toContainEqual(failed);
    // run() reacts once promises settle, after the advance: the sleep that it would have left behind still ends at 2 s, after the failure.
    const order = atOnce.timeline.map(([type]) => type);
    expect(order.indexOf("step.failed")).toBeLessThan(order.indexOf("timer.fired"));
  });

  it("code-first: a step's retries inside one advance start and time out at the times a stepwise advance gives them", async () => {
    const workflow = defineWorkflow({
      name: "retried",
      entrypoint: class extends WorkflowEntrypoint {
        async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
          return step.do("slow", { timeout: "1 second", retries: { limit: 2, delay: "1 second", backoff: "constant" } }, () => new Promise<string>(() => undefined));
        }
      },
    });
    const stepwise = await runFor(workflow, 10_000, 1_000);
    const atOnce = await runFor(workflow, 10_000, 10_000);
    const attempts = (timeline: unknown[][]) => timeline.filter(([type]) => String(type).startsWith("step."));
    expect(attempts(stepwise.timeline)).toEqual([
      ["step.started", 0, "do:slow-1"],
      ["step.attempt_failed", 1_000, "do:slow-1"],
      ["step.started", 2_000, "do:slow-1"],
      ["step.attempt_failed", 3_000, "do:slow-1"],
      ["step.started", 4_000, "do:slow-1"],
      ["step.attempt_failed", 5_000, "do:slow-1"],
      ["step.failed", 5_000, "do:slow-1"],
    ]);
    expect(attempts(atOnce.timeline)).toEqual(attempts(stepwise.timeline));
    expect(atOnce.status).toMatchObject({ status: "errored", error: { name: "WorkflowTimeoutError" } });
  });

  it("machines: a 1 s step timeout and a 2 s `after` in one state, advanced 5 s at once: onError wins, as stepwise", async () => {
    const machine = setup({
      actors: { slow: step(() => new Promise<string>(() => undefined)) },
    }).createMachine({
      id: "raced",
      initial: "working",
      states: {
        working: { invoke: { src: "slow", onError: "timedOut" }, after: { 2_000: "tooLate" } },
        timedOut: { type: "final" },
        tooLate: { type: "final" },
      },
    });
    const workflow = defineWorkflow({ name: "raced", machine, steps: { slow: { retries: { limit: 0, delay: 0 }, timeout: "1 second" } } });
    const stepwise = await runFor(workflow, 5_000, 1_000);
    const atOnce = await runFor(workflow, 5_000, 5_000);
    expect(stepwise.status).toMatchObject({ status: "complete", value: "timedOut" });
    expect(atOnce.status).toEqual(stepwise.status);
    expect(atOnce.timeline).toEqual(stepwise.timeline);
  });
});
