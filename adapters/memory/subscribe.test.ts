import { describe, expect, it } from "vitest";
import { setup } from "xstate";
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
    await new Promise((resolve) => setImmediate(resolve));
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
      "workflow_waiting",
      "workflow_running",
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
    expect((await all(await instance.subscribe({ cursor: 14 }))).map((e) => e.eventId)).toEqual([15, 16]);
    expect((await all(await instance.subscribe({ filter: ["step_completed"] }))).map((e) => e.type)).toEqual(["step_completed", "step_completed"]);
    expect(await all(await instance.subscribe({ cursor: 16 }))).toEqual([]);
  });

  it("follows a restart after the end: ids never go back, and a cursor saved in the first run still reads on from where it stood", async () => {
    const { host, clock, instance } = await finished();
    await host.idle();
    clock.advance(1000);
    await host.idle();
    const firstRun = await all(await instance.subscribe());
    expect(firstRun.at(-1)).toMatchObject({ type: "workflow_completed", eventId: 16 });
    await instance.restart({ from: { name: "b" } });
    await host.idle();
    await new Promise((resolve) => setImmediate(resolve));
    const afterRestart = await all(await instance.subscribe({ cursor: 16 }));
    expect(afterRestart.map((e) => [e.eventId, e.type])).toEqual([
      [17, "workflow_running"],
      [18, "step_started"],
      [19, "attempt_started"],
      [20, "attempt_completed"],
      [21, "step_completed"],
      [22, "workflow_completed"],
    ]);
    const whole = await all(await instance.subscribe());
    expect(whole.map((e) => e.eventId)).toEqual(whole.map((_, i) => i + 1));
    expect(whole.filter((e) => e.type === "workflow_completed").map((e) => e.eventId)).toEqual([16, 22]);
  });

  it("a subscription that followed the run live ends at its end, even when a restart comes right after", async () => {
    const { host, clock, instance } = await finished();
    await host.idle();
    const subscription = await instance.subscribe({ cursor: 5 });
    expect((await subscription.next()).value).toMatchObject({ eventId: 6, type: "attempt_completed" });
    expect((await subscription.next()).value).toMatchObject({ eventId: 7, type: "step_completed" });
    expect((await subscription.next()).value).toMatchObject({ eventId: 8, type: "sleep_started" });
    const rest = all(subscription);
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(1000);
    await host.idle();
    await instance.restart();
    await host.idle();
    expect((await rest).map((e) => e.type)).toEqual([
      "workflow_waiting",
      "workflow_running",
      "sleep_completed",
      "step_started",
      "attempt_started",
      "attempt_completed",
      "step_completed",
      "workflow_completed",
    ]);
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

type Subscription = { next(): Promise<IteratorResult<{ type: string; eventId: number }, void>>; [Symbol.dispose](): void };

/** The events a subscription has now: the log is read in promises, so all of it is delivered before the next turn, when the subscription is disposed. */
async function current(subscription: Subscription) {
  const stop = setImmediate(() => subscription[Symbol.dispose]());
  const events = await all(subscription);
  clearImmediate(stop);
  return events;
}

const ANNOUNCED: Record<string, string> = {
  workflow_running: "running",
  workflow_waiting: "waiting",
  workflow_waiting_for_pause: "waitingForPause",
  workflow_paused: "paused",
  workflow_completed: "complete",
  workflow_errored: "errored",
  workflow_terminated: "terminated",
};

/** The status the last status event announced. */
const announced = (events: { type: string }[]) => ANNOUNCED[events.findLast((event) => event.type in ANNOUNCED)!.type];

/** A code-first workflow whose run() is `body`, on a memory host with a manual clock. */
async function started(body: (step: WorkflowStep) => Promise<unknown>) {
  const clock = createManualClock(0);
  const entrypoint = class extends WorkflowEntrypoint {
    async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
      return body(step);
    }
  };
  const host = createMemoryHost({ workflows: [defineWorkflow({ name: "moves", entrypoint })], clock });
  const instance = await host.workflow("moves").create({ id: "moves" });
  /** Lets the run go as far as it can (without waiting for step callbacks that are held up, with `idle: false`), then checks that the events so far announce the status status() reports. */
  const settled = async ({ idle = true } = {}) => {
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (idle) await host.idle();
    }
    const events = await current(await instance.subscribe());
    expect(announced(events), events.map((e) => e.type).join(", ")).toBe((await instance.status()).status);
    return events;
  };
  return { clock, instance, settled };
}

describe("workflow_waiting and workflow_running: a code-first run's moves between running and waiting, as Cloudflare's newer engine announces them", () => {
  it("event waits: one waiting a while and one that times out announce both moves; one whose event came first never waits", async () => {
    const { clock, instance, settled } = await started(async (step) => {
      await step.sleep("nap", 1000);
      await step.waitForEvent("early", { type: "early" });
      await step.waitForEvent("late", { type: "late", timeout: "1 minute" });
      return step.waitForEvent("never", { type: "never", timeout: "1 minute" }).catch(() => "timed out");
    });
    await settled();
    await instance.sendEvent({ type: "early" });
    clock.advance(1000);
    expect((await settled()).at(-1)).toMatchObject({ type: "workflow_waiting" });
    await instance.sendEvent({ type: "late" });
    await settled();
    clock.advance(60_000);
    const events = await settled();
    expect(events.map((e) => e.type)).toEqual([
      "workflow_queued",
      "workflow_started",
      "workflow_running",
      "sleep_started",
      "workflow_waiting",
      // The early event arrived during the nap, so its wait is answered at once.
      "workflow_running",
      "sleep_completed",
      "wait_started",
      "wait_completed",
      "wait_started",
      "workflow_waiting",
      "workflow_running",
      "wait_completed",
      "wait_started",
      "workflow_waiting",
      "workflow_running",
      "wait_timed_out",
      "workflow_completed",
    ]);
    expect(events.map((e) => e.eventId)).toEqual(events.map((_, i) => i + 1));
  });

  it("a retry delay is a wait: waiting after the failed attempt, running again when the next one starts", async () => {
    const { clock, settled } = await started((step) =>
      step.do("flaky", { retries: { limit: 1, delay: 1000 } }, async (ctx) => {
        if (ctx.attempt === 1) throw new Error("down");
        return "up";
      }),
    );
    expect((await settled()).at(-1)).toMatchObject({ type: "workflow_waiting" });
    clock.advance(1000);
    expect((await settled()).map((e) => e.type)).toEqual([
      "workflow_queued",
      "workflow_started",
      "workflow_running",
      "step_started",
      "attempt_started",
      "attempt_errored",
      "workflow_waiting",
      "workflow_running",
      "attempt_started",
      "attempt_completed",
      "step_completed",
      "workflow_completed",
    ]);
  });

  it("pause and resume during a sleep: the resumed run is running, then waits again for what is left of the sleep; cursors keep their events", async () => {
    const { clock, instance, settled } = await started(async (step) => {
      await step.sleep("nap", 1000);
      return step.do("b", async () => "b");
    });
    const asleep = await settled();
    const cursor = asleep.at(-1)!.eventId;
    await instance.pause();
    clock.advance(5000);
    await settled();
    await instance.resume();
    const resumed = await settled();
    clock.advance(1000);
    const events = await settled();
    expect(events.map((e) => e.type)).toEqual([
      "workflow_queued",
      "workflow_started",
      "workflow_running",
      "sleep_started",
      "workflow_waiting",
      "workflow_waiting_for_pause",
      "workflow_paused",
      "workflow_running",
      "workflow_waiting",
      "workflow_running",
      "sleep_completed",
      "step_started",
      "attempt_started",
      "attempt_completed",
      "step_completed",
      "workflow_completed",
    ]);
    // A cursor saved at any point reads on with the same events, under the same ids, on every read.
    expect(events.slice(0, resumed.length)).toEqual(resumed);
    expect(await all(await instance.subscribe({ cursor }))).toEqual(events.slice(cursor));
    expect(await all(await instance.subscribe({ cursor: resumed.length }))).toEqual(events.slice(resumed.length));
    expect(await all(await instance.subscribe({ filter: ["workflow_waiting", "workflow_running"] }))).toEqual(
      events.filter((e) => e.type === "workflow_waiting" || e.type === "workflow_running"),
    );
  });

  it("a pause while a step runs: no wait is announced before the pause takes effect, nor for the step it waited for", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { clock, instance, settled } = await started(async (step) => {
      await step.do("slow", async () => gate);
      await step.sleep("nap", 1000);
    });
    await settled({ idle: false });
    await instance.pause();
    expect((await settled({ idle: false })).at(-1)).toMatchObject({ type: "workflow_waiting_for_pause" });
    release();
    await settled();
    await instance.resume();
    await settled();
    clock.advance(1000);
    expect((await settled()).map((e) => e.type)).toEqual([
      "workflow_queued",
      "workflow_started",
      "workflow_running",
      "step_started",
      "attempt_started",
      "workflow_waiting_for_pause",
      "attempt_completed",
      "step_completed",
      "workflow_paused",
      "workflow_running",
      "sleep_started",
      "workflow_waiting",
      "workflow_running",
      "sleep_completed",
      "workflow_completed",
    ]);
  });

  it("a machine workflow's events stay as they were: its status needs its definition to fold, so subscribe() does not announce its waits", async () => {
    const machine = setup({}).createMachine({ id: "gate", initial: "closed", states: { closed: { on: { open: "done" } }, done: { type: "final" } } });
    const host = createMemoryHost({ workflows: [defineWorkflow({ name: "gate", machine })], clock: createManualClock(0) });
    const instance = await host.workflow("gate").create({ id: "gate" });
    await host.idle();
    expect((await instance.status()).status).toBe("waiting");
    await instance.sendEvent({ type: "open" });
    await host.idle();
    expect((await all(await instance.subscribe())).map((e) => e.type)).toEqual(["workflow_queued", "workflow_started", "workflow_running", "workflow_completed"]);
  });
});
