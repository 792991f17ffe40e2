import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, defineWorkflow, DurableMachinesError, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../../index";

class Two extends WorkflowEntrypoint {
  async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
    await step.do("a", async () => 1);
    await step.sleep("nap", 1000);
    return step.do("b", async () => 2);
  }
}

async function finished() {
  const clock = createManualClock(0);
  const host = createMemoryHost({ workflows: [defineWorkflow({ name: "two", entrypoint: Two })], clock });
  const instance = await host.workflow("two").create({ id: "sub" });
  return { host, clock, instance };
}

async function all(subscription: { next(): Promise<IteratorResult<{ type: string; eventId: number }, void>> }) {
  const events: { type: string; eventId: number }[] = [];
  for (;;) {
    const next = await subscription.next();
    if (next.done) return events;
    events.push(next.value);
  }
}

describe("subscribe(), Cloudflare's instance events", () => {
  it("delivers the history, then live events, until the run's end", async () => {
    const { host, clock, instance } = await finished();
    const subscription = await instance.subscribe();
    const collected = all(subscription);
    await host.idle();
    await new Promise((resolve) => setTimeout(resolve, 50));
    clock.advance(1000);
    await host.idle();
    const events = await collected;
    expect(events.map((e) => e.type)).toEqual([
      "workflow_queued",
      "workflow_started",
      "workflow_running",
      "step_started",
      "attempt_started",
      "attempt_completed",
      "step_completed",
      "sleep_started",
      "sleep_completed",
      "step_started",
      "attempt_started",
      "attempt_completed",
      "step_completed",
      "workflow_completed",
    ]);
    expect(events.map((e) => e.eventId)).toEqual(events.map((_, i) => i + 1));
  });

  it("takes the cursor as exclusive, ends after a terminal event the filter hides, and at once past the end", async () => {
    const { host, clock, instance } = await finished();
    await host.idle();
    clock.advance(1000);
    await host.idle();
    expect((await all(await instance.subscribe({ cursor: 12 }))).map((e) => e.eventId)).toEqual([13, 14]);
    expect((await all(await instance.subscribe({ filter: ["step_completed"] }))).map((e) => e.type)).toEqual(["step_completed", "step_completed"]);
    expect(await all(await instance.subscribe({ cursor: 14 }))).toEqual([]);
  });

  it("follows a restart after the end: ids never go back, and a cursor saved in the first run still reads on from where it stood", async () => {
    const { host, clock, instance } = await finished();
    await host.idle();
    clock.advance(1000);
    await host.idle();
    const firstRun = await all(await instance.subscribe());
    expect(firstRun.at(-1)).toMatchObject({ type: "workflow_completed", eventId: 14 });
    await instance.restart({ from: { name: "b" } });
    await host.idle();
    await new Promise((resolve) => setImmediate(resolve));
    const afterRestart = await all(await instance.subscribe({ cursor: 14 }));
    expect(afterRestart.map((e) => [e.eventId, e.type])).toEqual([
      [15, "workflow_running"],
      [16, "step_started"],
      [17, "attempt_started"],
      [18, "attempt_completed"],
      [19, "step_completed"],
      [20, "workflow_completed"],
    ]);
    const whole = await all(await instance.subscribe());
    expect(whole.map((e) => e.eventId)).toEqual(whole.map((_, i) => i + 1));
    expect(whole.filter((e) => e.type === "workflow_completed").map((e) => e.eventId)).toEqual([14, 20]);
  });

  it("a subscription that followed the run live ends at its end, even when a restart comes right after", async () => {
    const { host, clock, instance } = await finished();
    await host.idle();
    const subscription = await instance.subscribe({ cursor: 5 });
    expect((await subscription.next()).value).toMatchObject({ eventId: 6, type: "attempt_completed" });
    expect((await subscription.next()).value).toMatchObject({ eventId: 7, type: "step_completed" });
    expect((await subscription.next()).value).toMatchObject({ eventId: 8, type: "sleep_started" });
    const rest = all(subscription);
    await new Promise((resolve) => setTimeout(resolve, 30));
    clock.advance(1000);
    await host.idle();
    await instance.restart();
    await host.idle();
    expect((await rest).map((e) => e.type)).toEqual(["sleep_completed", "step_started", "attempt_started", "attempt_completed", "step_completed", "workflow_completed"]);
  });

  it("refuses options Cloudflare refuses", async () => {
    const { instance } = await finished();
    for (const options of [{ cursor: -1 }, { cursor: 1.5 }, { filter: ["nope"] }, { extra: true }, 5]) {
      const error = await instance.subscribe(options as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DurableMachinesError);
      expect((error as DurableMachinesError).message).toMatch(/^Invalid Workflow subscription options/);
    }
  });
});
