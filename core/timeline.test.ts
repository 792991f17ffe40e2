import { setup } from "xstate";
import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, dagTasks, defineDag, defineWorkflow, NonRetryableError, step, WorkflowEntrypoint, type AnyWorkflowDefinition, type LogRecord, type WorkflowStep } from "../index";
import { BOOKING_DELAY_MS, booking } from "../test/booking";
import { keyLabel, timeline, type Bar } from "./timeline";

const START = 1_000_000;

/** Runs `drive` on a memory host over a manual clock and returns the instance's whole log. */
async function logOf(def: AnyWorkflowDefinition, params: unknown, drive: (driver: { settle(): Promise<void>; advance(ms: number): Promise<void>; send(type: string): Promise<void> }) => Promise<void>): Promise<LogRecord[]> {
  const clock = createManualClock(START);
  const host = createMemoryHost({ workflows: [def], clock });
  const instance = await host.workflow(def.name).create({ id: "subject", params });
  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      await host.idle();
    }
  };
  await drive({
    settle,
    advance: async (ms) => {
      clock.advance(ms);
      await settle();
    },
    send: async (type) => {
      await instance.sendEvent({ type });
      await settle();
    },
  });
  return instance.history();
}

/** A booking whose charge fails for good after its retry, its sleep and its approval: its rollback runs the handlers. */
const failedBookingLog = () =>
  logOf(booking, { fail: true }, async ({ settle, advance, send }) => {
    await settle();
    await advance(BOOKING_DELAY_MS);
    await advance(BOOKING_DELAY_MS);
    await advance(7);
    await send("approve");
  });

/** The bars as `kind label outcome`, in the order they began: what a reader of the chart sees. */
const shown = (bars: Bar[]) => bars.map((bar) => `${bar.kind} ${bar.label} ${bar.outcome}`);

describe("timeline: an instance's log as bars over time", () => {
  it("a code-first run: attempts, the backoff before a retry, a sleep, an event wait until its event, and the rollback with its handlers", async () => {
    const log = await failedBookingLog();
    const bars = timeline(log, { kind: "code" });
    expect(shown(bars)).toEqual([
      "attempt mint token · attempt 1 succeeded",
      "attempt reserve seat · attempt 1 retrying",
      "backoff reserve seat · retry 2 retried",
      "attempt reserve seat · attempt 2 succeeded",
      "attempt notify · attempt 1 succeeded",
      "attempt notify (2) · attempt 1 succeeded",
      "sleep cool down fired",
      'wait approval: waiting for "approve" received',
      "attempt charge card · attempt 1 failed",
      "rollback rollback (card declined) completed",
      "rollbackAttempt rollback charge card · attempt 1 succeeded",
      "rollbackAttempt rollback reserve seat · attempt 1 succeeded",
    ]);
    const byLabel = (label: string) => bars.find((bar) => bar.label === label)!;
    const backoff = byLabel("reserve seat · retry 2");
    expect(backoff.end - backoff.start).toBe(BOOKING_DELAY_MS);
    expect(backoff.dueAt).toBe(backoff.end);
    const sleep = byLabel("cool down");
    expect([sleep.end - sleep.start, sleep.dueAt]).toEqual([BOOKING_DELAY_MS, sleep.end]);
    // The wait began before the clock moved 7 ms and ended at the event.
    const wait = byLabel('approval: waiting for "approve"');
    expect(wait.end - wait.start).toBe(7);
    expect(log.find((record) => record.seq === wait.endSeq)!.type).toBe("event.received");
    expect(bars.every((bar) => !bar.open)).toBe(true);
  });

  it("a code-first run still waiting: its open wait ends at `now`, and an event sent before the wait answers it when the wait starts", async () => {
    const early = defineWorkflow({
      name: "early",
      entrypoint: class extends WorkflowEntrypoint {
        async run(_event: unknown, flow: WorkflowStep) {
          await flow.sleep("first", 100);
          await flow.waitForEvent("go", { type: "go", timeout: "1 hour" });
          await flow.waitForEvent("later", { type: "later", timeout: "1 hour" });
        }
      },
    });
    const log = await logOf(early, {}, async ({ settle, send, advance }) => {
      await settle();
      await send("go");
      await advance(100);
    });
    const bars = timeline(log, { kind: "code" }, { now: START + 5_000 });
    expect(shown(bars)).toEqual(["sleep first fired", 'wait go: waiting for "go" received', 'wait later: waiting for "later" waiting']);
    const [, go, later] = bars;
    expect([go!.start, go!.end]).toEqual([START + 100, START + 100]);
    expect([later!.open, later!.end, later!.dueAt]).toEqual([true, START + 5_000, START + 100 + 3_600_000]);
  });

  it("a machine: retried attempts with their backoffs, a delayed transition, and a step its state stopped (seen with the definition)", async () => {
    let calls = 0;
    const racing = defineWorkflow({
      name: "racing",
      machine: setup({
        actors: {
          flaky: step(async () => {
            if (++calls < 3) throw new Error("busy");
            return "ok";
          }),
          forever: step(() => new Promise<never>(() => {})),
          quick: step(async () => "quick"),
        },
      }).createMachine({
        id: "racing",
        initial: "trying",
        states: {
          trying: { invoke: { src: "flaky", onDone: "cooling", onError: "failed" } },
          cooling: { after: { 500: "racing" } },
          racing: { invoke: [{ src: "forever" }, { src: "quick", onDone: "done" }] },
          done: { type: "final" },
          failed: { type: "final" },
        },
      }),
      steps: { flaky: { retries: { limit: 3, delay: 1000, backoff: "constant" } } },
    });
    const log = await logOf(racing, {}, async ({ settle, advance }) => {
      await settle();
      await advance(1000);
      await advance(1000);
      await advance(500);
    });
    expect(log.at(-1)!.type).toBe("instance.completed");
    const bars = timeline(log, { kind: "machine", definition: racing });
    expect(shown(bars)).toEqual([
      "attempt 0.racing.trying · attempt 1 retrying",
      "backoff 0.racing.trying · retry 2 retried",
      "attempt 0.racing.trying · attempt 2 retrying",
      "backoff 0.racing.trying · retry 3 retried",
      "attempt 0.racing.trying · attempt 3 succeeded",
      "timer after 500 ms in racing.cooling fired",
      "attempt 0.racing.racing · attempt 1 stopped",
      "attempt 1.racing.racing · attempt 1 succeeded",
    ]);
    // Without the definition the log cannot say the state stopped `forever`: the instance's end cuts it off.
    expect(shown(timeline(log, { kind: "machine" }))[6]).toBe("attempt 0.racing.racing · attempt 1 interrupted");
  });

  it("the newest records of a long log, which do not start with the creation: bars from them alone, a wait ended by the event of its type", async () => {
    const log = await failedBookingLog();
    const whole = shown(timeline(log, { kind: "code" }));
    for (let cut = 1; cut < log.length; cut++) {
      const bars = timeline(log.slice(cut), { kind: "code" });
      expect(bars.every((bar) => bar.startSeq > cut)).toBe(true);
      // Each bar is one the whole log draws (a backoff whose failed attempt began before the cut is left out).
      expect(whole).toEqual(expect.arrayContaining(shown(bars)));
      const waitStarted = log.findIndex((record) => record.type === "wait.started");
      if (cut <= waitStarted) expect(shown(bars)).toContain('wait approval: waiting for "approve" received');
    }
    expect(whole).toContain('wait approval: waiting for "approve" received');
  });

  it("a delayed transition with a named delay reads with its name and its length", async () => {
    const reminder = defineWorkflow({
      name: "reminder",
      machine: setup({ delays: { grace: 1500 } }).createMachine({
        id: "reminder",
        initial: "waiting",
        states: { waiting: { after: { grace: "done" } }, done: { type: "final" } },
      }),
    });
    const log = await logOf(reminder, {}, async ({ settle, advance }) => {
      await settle();
      await advance(1500);
    });
    expect(shown(timeline(log, { kind: "machine", definition: reminder }))).toEqual(["timer after grace (1500 ms) in reminder.waiting fired"]);
  });

  it("a DAG: each task's attempts, a retry's backoff, and its sleep as a timer", async () => {
    let tries = 0;
    const dag = defineDag({
      name: "steps",
      tasks: dagTasks<Record<string, never>>()
        .task("fetch", {
          retries: { limit: 1, delay: "1 second", backoff: "constant" },
          run: () => {
            if (++tries === 1) throw new Error("timeout");
            return 1;
          },
        })
        .sleep("rest", { needs: ["fetch"], duration: "2 seconds" })
        .task("store", {
          needs: ["rest"],
          run: () => {
            throw new NonRetryableError("disk full");
          },
        }),
    });
    const log = await logOf(dag, {}, async ({ settle, advance }) => {
      await settle();
      await advance(1000);
      await advance(2000);
    });
    const bars = timeline(log, { kind: "machine", definition: dag });
    expect(shown(bars)).toEqual(["attempt fetch · attempt 1 retrying", "backoff fetch · retry 2 retried", "attempt fetch · attempt 2 succeeded", "timer after 2000 ms in steps.rest.running fired", "attempt store · attempt 1 failed"]);
  });

  it("labels keys as a person reads them", () => {
    expect(["do:charge card-1", "do:charge card-2", "sleep:nap-1", "waitForEvent:approval-3", "0.checkout.charge#3", "fetch#1"].map(keyLabel)).toEqual([
      "charge card",
      "charge card (2)",
      "nap",
      "approval (3)",
      "0.checkout.charge",
      "fetch",
    ]);
  });
});
