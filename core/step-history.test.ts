import { setup } from "xstate";
import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, defineWorkflow, NonRetryableError, step, WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "../index";
import { booking, BOOKING_DELAY_MS, BOOKING_ROLLBACKS, BOOKING_STEPS, type BookingParams } from "../test/booking";
import { DEFAULT_PUBLIC_CONFIG } from "./code/config";
import type { LogRecord } from "./records";
import { stepHistory, StepHistoryBuilder, type HistoryStep } from "./step-history";

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
async function settle(host: { idle(): Promise<void> }) {
  for (let i = 0; i < 8; i++) {
    await flush();
    await host.idle();
  }
}

/** Runs a booking through its retry and its sleep; the approval arrives during the sleep and waits for the wait. */
async function bookedInstance(params: BookingParams = {}) {
  const clock = createManualClock(1_000_000);
  const host = createMemoryHost({ workflows: [booking], clock });
  const instance = await host.workflow("booking").create({ id: "b1", params });
  await settle(host);
  clock.advance(BOOKING_DELAY_MS);
  await settle(host);
  await instance.sendEvent({ type: "approve", payload: { by: "Ada" } });
  clock.advance(BOOKING_DELAY_MS);
  await settle(host);
  return { host, clock, instance };
}

const outline = (steps: HistoryStep[]) => steps.map((s) => [s.kind, s.name, s.count]);

describe("step history of a code-first instance", () => {
  it("names each step without -n, with its kind, attempts, config and output, in the order the steps started", async () => {
    const { host, instance } = await bookedInstance();
    expect((await instance.status()).status).toBe("complete");
    // The log as stored, not as history() shows it: the mapping redacts by itself.
    const log = host.storage.store("booking", "b1").read();
    const steps = stepHistory(log, booking);

    expect(outline(steps)).toEqual(BOOKING_STEPS);
    expect(steps.map((s) => s.key)).toEqual(["do:mint token-1", "do:reserve seat-1", "do:notify-1", "do:notify-2", "sleep:cool down-1", "waitForEvent:approval-1", "do:charge card-1"]);
    for (const s of steps) {
      expect(s).toMatchObject({ success: true, restartable: true });
      expect(s.duration).toBe(s.end! - s.start);
      expect(s.cancelled).toBeUndefined();
      // The seqs of the records that began and ended it, which order steps that share a millisecond.
      expect(log.find((r) => r.seq === s.startSeq)!.at).toBe(s.start);
      expect(log.find((r) => r.seq === s.endSeq)!.at).toBe(s.end);
    }
    expect(steps.map((s) => [log.find((r) => r.seq === s.startSeq)!.type, log.find((r) => r.seq === s.endSeq)!.type])).toEqual([
      ["step.started", "step.succeeded"],
      ["step.started", "step.succeeded"],
      ["step.started", "step.succeeded"],
      ["step.started", "step.succeeded"],
      ["timer.started", "timer.fired"],
      // The approval came during the cool down, so the wait took it as it began: one record starts and ends it.
      ["wait.started", "wait.started"],
      ["step.started", "step.succeeded"],
    ]);
    // One after another, but for the two notify steps of the Promise.all, which overlap.
    const overlaps = steps.slice(0, -1).map((s, i) => [s.key, s.endSeq! > steps[i + 1]!.startSeq]);
    expect(overlaps.filter(([, overlapping]) => overlapping)).toEqual([["do:notify-1", true]]);

    const [mint, reserve, notify1, notify2, sleep, wait] = steps as [HistoryStep, HistoryStep, HistoryStep, HistoryStep, HistoryStep, HistoryStep];
    // The log keeps the secret for replay; the history shows Cloudflare's marker.
    expect(JSON.stringify(log)).toContain("s3cr3t");
    expect(mint.output).toBe("[REDACTED]");
    expect(mint.config).toEqual({ ...(DEFAULT_PUBLIC_CONFIG as object), sensitive: "output" });

    expect(reserve.config).toEqual({ retries: { limit: 2, backoff: "constant", delay: BOOKING_DELAY_MS }, timeout: "10 minutes" });
    expect(reserve.output).toEqual({ seat: "12A" });
    expect(reserve.attempts.map(({ attempt, success, error }) => ({ attempt, success, error }))).toEqual([
      { attempt: 1, success: false, error: { name: "Error", message: "seat map busy" } },
      { attempt: 2, success: true, error: undefined },
    ]);
    expect(reserve.attempts[1]!.start - reserve.attempts[0]!.end!).toBe(BOOKING_DELAY_MS);
    expect(reserve.start).toBe(reserve.attempts[0]!.start);
    expect(reserve.end).toBe(reserve.attempts[1]!.end);

    expect([notify1.output, notify2.output]).toEqual(["email", "sms"]);
    expect(notify1.config).toEqual(DEFAULT_PUBLIC_CONFIG);
    expect(sleep.config).toEqual({ durationMs: BOOKING_DELAY_MS });
    expect(sleep.attempts).toEqual([]);
    // The event came during the sleep and waited; the wait took it as soon as it began.
    const sent = log.find((r) => r.type === "event.received")!;
    expect(wait.config).toEqual({ type: "approve", timeout: 3_600_000 });
    expect(wait.output).toEqual({ type: "approve", payload: { by: "Ada" }, timestamp: sent.at });
    expect(wait.start).toBeGreaterThan(sent.at);
    expect(wait.end).toBe(wait.start);
  });

  it("lists rollback steps after the failure that caused them, newest first, with their own config", async () => {
    const { instance } = await bookedInstance({ fail: true });
    expect((await instance.status()).status).toBe("errored");
    const steps = stepHistory(await instance.history(), booking);
    expect(outline(steps)).toEqual([...BOOKING_STEPS, ...BOOKING_ROLLBACKS]);
    const [charge, undoCharge, undoReserve] = steps.slice(6) as [HistoryStep, HistoryStep, HistoryStep];
    expect(charge).toMatchObject({ success: false, error: { name: "NonRetryableError", message: "card declined" } });
    expect(charge.attempts).toHaveLength(1);
    expect(undoCharge).toMatchObject({ key: "do:charge card-1", success: true, restartable: false, config: DEFAULT_PUBLIC_CONFIG });
    expect(undoReserve).toMatchObject({ key: "do:reserve seat-1", success: true, restartable: false });
    expect(undoReserve.config).toEqual({ retries: { limit: 0, backoff: "exponential", delay: 0 }, timeout: "10 minutes" });
    expect(undoReserve.attempts.map((a) => a.success)).toEqual([true]);
  });

  it("shows the current run only: a restart from a step keeps the steps before it, a restart from the start keeps none", async () => {
    const { host, clock, instance } = await bookedInstance();
    const first = stepHistory(await instance.history(), booking);

    clock.advance(5000);
    await instance.restart({ from: { name: "cool down", type: "sleep" } });
    await settle(host);
    const restarted = stepHistory(await instance.history(), booking);
    expect(outline(restarted)).toEqual(outline(first).slice(0, 5));
    expect(restarted.slice(0, 4)).toEqual(first.slice(0, 4));
    expect(restarted[4]!.start).toBeGreaterThan(first.at(-1)!.end!);
    expect(restarted[4]!.success).toBeNull();

    await instance.restart();
    await settle(host);
    const fresh = stepHistory(await instance.history(), booking);
    expect(outline(fresh)).toEqual(outline(first).slice(0, 2));
    expect(fresh[1]!.attempts.map((a) => a.success)).toEqual([false]);
    clock.advance(BOOKING_DELAY_MS);
    await settle(host);
    expect(stepHistory(await instance.history(), booking)[1]!.attempts.map((a) => a.success)).toEqual([false, true]);
  });

  it("built a page at a time, gives what the whole log gives; a restart from a step asks for one more pass, with its cut kept", async () => {
    const { host, clock, instance } = await bookedInstance();
    clock.advance(5000);
    await instance.restart({ from: { name: "cool down", type: "sleep" } });
    await settle(host);
    await instance.sendEvent({ type: "approve", payload: { by: "Grace" } });
    clock.advance(BOOKING_DELAY_MS);
    await settle(host);
    const log = host.storage.store("booking", "b1").read();
    const cut = (log.find((r) => r.type === "instance.restarted") as LogRecord<"instance.restarted">).data.cut!;

    const first = new StepHistoryBuilder(booking);
    for (const record of log) first.push([record]);
    expect(first.missingCheckpoints).toEqual([cut]);
    expect(() => first.steps()).toThrow();

    const second = new StepHistoryBuilder(booking, first.missingCheckpoints);
    for (let at = 0; at < log.length; at += 3) second.push(log.slice(at, at + 3));
    expect(second.missingCheckpoints).toEqual([]);
    const steps = second.steps();
    expect(steps).toEqual(stepHistory(log, booking));
    expect(outline(steps)).toEqual(BOOKING_STEPS);
    expect(steps.find((s) => s.kind === "waitForEvent")!.output).toMatchObject({ payload: { by: "Grace" } });
  });

  it("marks a wait that timed out as failed, and what a terminate cut short as cancelled", async () => {
    class Impatient extends WorkflowEntrypoint {
      async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
        await step.waitForEvent("reply", { type: "reply", timeout: 1000 }).catch(() => undefined);
        await step.sleep("nap", "1 hour");
      }
    }
    const impatient = defineWorkflow({ name: "impatient", entrypoint: Impatient });
    const clock = createManualClock(5_000);
    const host = createMemoryHost({ workflows: [impatient], clock });
    const instance = await host.workflow("impatient").create({ id: "i1" });
    await settle(host);
    clock.advance(1000);
    await settle(host);
    await instance.terminate();
    const [reply, nap] = stepHistory(await instance.history(), impatient) as [HistoryStep, HistoryStep];
    expect(reply).toMatchObject({ kind: "waitForEvent", success: false, error: { name: "WorkflowTimeoutError", message: "Execution timed out after 1000ms" }, duration: 1000 });
    expect(reply.output).toBeUndefined();
    expect(nap).toMatchObject({ kind: "sleep", success: null, cancelled: true });
    expect(nap.end).toBeDefined();
  });
});

describe("step history of a machine instance", () => {
  const machine = setup({
    actors: {
      fetch: step(async ({ attempt }) => {
        if (attempt === 1) throw new Error("timeout upstream");
        return { rows: 3 };
      }),
      ship: step(async () => {
        throw new NonRetryableError("no courier");
      }),
      unfetch: step(async () => "forgotten"),
    },
  }).createMachine({
    id: "order",
    initial: "fetching",
    states: {
      fetching: { invoke: { src: "fetch", onDone: "approval" } },
      approval: { on: { approve: "shipping" }, after: { 60_000: "expired" } },
      shipping: { invoke: { src: "ship", onDone: "done" } },
      done: { type: "final" },
      expired: { type: "final" },
    },
  });
  const order = defineWorkflow({ name: "order", machine, steps: { fetch: { retries: { limit: 1, delay: 500 }, compensate: "unfetch" } } });

  it("names steps by their actor, with the definition's config, and lists timers, events and compensations", async () => {
    const clock = createManualClock(0);
    const host = createMemoryHost({ workflows: [order], clock });
    const instance = await host.workflow("order").create({ id: "o1" });
    await settle(host);
    clock.advance(500);
    await settle(host);
    await instance.sendEvent({ type: "approve", payload: { by: "Grace" } });
    await settle(host);
    expect((await instance.status()).status).toBe("errored");

    const steps = stepHistory(await instance.history(), order);
    expect(steps.map((s) => [s.kind, s.name, s.count, s.success])).toEqual([
      ["step", "fetch", 1, true],
      ["timer", expect.stringContaining("order.approval"), 1, null],
      ["event", "approve", 1, true],
      ["step", "ship", 1, false],
      ["rollback", "fetch", 1, true],
    ]);
    const [fetch, timer, event, ship, undo] = steps as [HistoryStep, HistoryStep, HistoryStep, HistoryStep, HistoryStep];
    expect(fetch).toMatchObject({ key: "0.order.fetching#1", restartable: true, output: { rows: 3 } });
    expect(fetch.config).toEqual({ retries: { limit: 1, delay: 500, backoff: "exponential" }, timeout: 600_000, compensate: "unfetch" });
    expect(fetch.attempts.map((a) => [a.attempt, a.success, a.error?.message])).toEqual([
      [1, false, "timeout upstream"],
      [2, true, undefined],
    ]);
    expect(timer).toMatchObject({ cancelled: true, restartable: false, config: { durationMs: 60_000 } });
    expect(event).toMatchObject({ output: { by: "Grace" }, restartable: false, duration: 0 });
    expect(ship).toMatchObject({ error: { name: "NonRetryableError", message: "no courier" } });
    expect(undo).toMatchObject({ key: "0.order.fetching#1~undo", output: "forgotten", restartable: false });
    expect(undo.config).toEqual({ retries: { limit: 5, delay: 10_000, backoff: "exponential" }, timeout: 600_000 });
  });
});
