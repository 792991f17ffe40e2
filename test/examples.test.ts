import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, type InstanceHandle, type InstanceStatus, type LogRecord, type WorkflowDefinition } from "../index";
import { dataPipeline, type PipelineOutput } from "../machines/data-pipeline";
import { groceryAgent } from "../machines/grocery-agent";
import { DELIVERED, LIST, WEEK, OVER_BUDGET } from "../machines/grocery-agent.scenario";
import { trainingLoop, type TrainingParams } from "../machines/training-loop";
import { APPROVED_IN_ROUND_3, CATS, THREE_ROUNDS_OF_STEPS, TWO_ROUNDS_WITH_ATTEMPTS } from "../machines/training-loop.scenario";
import { expectOnlyRetentionAlarm } from "./retention-alarm";
import { skipAhead } from "./skew-clock";
import { until } from "./until";
import { workflows } from "./worker";
import { ORDERS, ORDERS_DONE, ORDERS_SUCCEEDED, THROTTLED, THROTTLED_KEY } from "../machines/data-pipeline.scenario";

/**
 * The three example workflows, end to end, on the Durable Object host inside
 * workerd, through the typed client. Time is moved with `skipAhead` (the
 * instances' clock) and the wake-up is rung with `runDurableObjectAlarm`, so
 * a one-minute retry or a one-day timeout is reached at once. `skipAhead` is
 * global to the isolate: the tests here run one after another.
 *
 * Each scenario is written once, against a `Runner`, and run on the Durable
 * Object host; the cross-host and crash checks run it on the memory host
 * (manual clock) too and compare the two logs record for record.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const client = () => workflows.client(env);
const objectOf = (workflow: string, id: string) => client().stub(workflow, id) as unknown as DurableObjectStub;

const ofType = <T extends LogRecord["type"]>(history: LogRecord[], type: T) => history.filter((r) => r.type === type) as LogRecord<T>[];
const failuresOf = (history: LogRecord[], key: string) => ofType(history, "step.attempt_failed").filter((r) => r.data.key === key);

/** How many times each step key started on its first attempt: more than one would mean a step ran again from scratch. */
function firstStarts(history: LogRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of ofType(history, "step.started")) if (r.data.attempt === 1) counts[r.data.key] = (counts[r.data.key] ?? 0) + 1;
  return counts;
}

/**
 * A log without what depends on the host's clock or id generator: record ids
 * and times go, and the deadlines a record carries (a timer's `dueAt`, a
 * retry's `retryAt`) are kept only as offsets from the record's own time,
 * which both hosts must agree on.
 */
function shape(history: LogRecord[]) {
  return history.map((r) => {
    switch (r.type) {
      case "timer.started": {
        const { dueAt, ...rest } = r.data;
        return { seq: r.seq, type: r.type, data: { ...rest, dueIn: dueAt - r.at } };
      }
      case "step.attempt_failed": {
        const { retryAt, ...rest } = r.data;
        return { seq: r.seq, type: r.type, data: retryAt === undefined ? rest : { ...rest, retryIn: retryAt - r.at } };
      }
      default:
        return { seq: r.seq, type: r.type, data: r.data };
    }
  });
}

interface Seen {
  status: InstanceStatus;
  history: LogRecord[];
}

/** One host, driven the same way whichever it is. */
interface Runner {
  readonly host: string;
  create(id: string, params: unknown): Promise<InstanceHandle>;
  /** Lets the instance work until `done` holds (and fails if it never does). */
  settle(instance: InstanceHandle, done: (seen: Seen) => boolean, what: string): Promise<Seen>;
  /** Moves the instances' clock `ms` ahead and fires whatever came due. */
  advance(instance: InstanceHandle, ms: number): Promise<void>;
  /** Between inputs, a chance to crash the instance (the Durable Object host aborts its object; the memory host does nothing). */
  pause(instance: InstanceHandle): Promise<void>;
}

const read = async (instance: InstanceHandle): Promise<Seen> => ({ status: await instance.status(), history: await instance.history() });

/** The Durable Object host, through the Worker's typed client. `crash` aborts the object at every `pause`. */
function objectRunner(workflow: string, { crash = false } = {}): Runner & { aborts: number } {
  const runner = {
    host: "durable-object",
    aborts: 0,
    create: (id: string, params: unknown) => client().workflow(workflow).create({ id, params }),
    settle: (instance: InstanceHandle, done: (seen: Seen) => boolean, what: string) => until(() => read(instance), done, `${workflow}/${instance.id}: ${what}`),
    async advance(instance: InstanceHandle, ms: number) {
      skipAhead(ms);
      // A fresh stub: one that reached an object before it was aborted stays broken.
      expect(await runDurableObjectAlarm(objectOf(workflow, instance.id)), `an alarm was set for ${instance.id}`).toBe(true);
    },
    async pause(instance: InstanceHandle) {
      if (!crash) return;
      await abort(workflow, instance.id);
      runner.aborts++;
    },
  };
  return runner;
}

/** The memory host with a manual clock, as the machines' own tests run it. */
function memoryRunner(def: WorkflowDefinition): Runner {
  const clock = createManualClock();
  const host = createMemoryHost({ workflows: [def], clock });
  return {
    host: "memory",
    create: (id, params) => host.workflow(def.name).create({ id, params }),
    async settle(instance, done, what) {
      await host.idle();
      const seen = await read(instance);
      if (!done(seen)) throw new Error(`memory host, ${instance.id}: ${what} did not happen; status ${JSON.stringify(seen.status)}`);
      return seen;
    },
    async advance(_instance, ms) {
      clock.advance(ms);
      await host.idle();
    },
    pause: async () => undefined,
  };
}

/**
 * A crash: the object's memory and in-flight work are gone, only its storage
 * is left. A status read through a fresh client handle builds it anew.
 */
async function abort(workflow: string, id: string): Promise<void> {
  await runInDurableObject(objectOf(workflow, id), (instance: object, state) => {
    // A mark in the object's memory, which the crash must wipe.
    (instance as { beforeCrash?: boolean }).beforeCrash = true;
    state.abort("crash injected by the test");
  }).catch(() => undefined);
  await until(
    async () => {
      try {
        await (await client().workflow(workflow).get(id)).status();
        return true;
      } catch {
        return false;
      }
    },
    Boolean,
    `${workflow}/${id} to answer after the crash`,
  );
  // The object that answers was built anew, from its storage alone.
  expect(await runInDurableObject(objectOf(workflow, id), (instance: object) => (instance as { beforeCrash?: boolean }).beforeCrash)).toBeUndefined();
}

const waitingIn = (value: string) => (seen: Seen) => seen.status.status === "waiting" && seen.status.value === value;
const complete = (seen: Seen) => seen.status.status === "complete";

// ---------------------------------------------------------------- training-loop

/** Round 1's training is preempted once and retried a minute later; round 2 runs on its own (loss 0.8 > 0.5) and goes to review. */
async function trainToFirstReview(r: Runner, id: string, params: TrainingParams = CATS) {
  const instance = await r.create(id, params);
  await r.settle(instance, ({ history }) => failuresOf(history, "train#1").length === 1, "round 1's training to be preempted");
  await r.pause(instance);
  await r.advance(instance, MINUTE);
  const seen = await r.settle(instance, waitingIn("awaitingFeedback"), "the first review");
  return { instance, seen };
}

/** Rejects round 2 (one more round), then approves round 3. */
async function trainRejectThenApprove(r: Runner, id: string): Promise<Seen> {
  const { instance } = await trainToFirstReview(r, id);
  await r.pause(instance);
  await instance.sendEvent({ type: "feedback", payload: { approve: false, note: "more epochs" } });
  await r.settle(instance, (seen) => waitingIn("awaitingFeedback")(seen) && ofType(seen.history, "timer.started").length === 2, "the second review");
  await r.pause(instance);
  await instance.sendEvent({ type: "feedback", payload: { approve: true } });
  return r.settle(instance, complete, "completion");
}

describe("training-loop on the Durable Object host", () => {
  it("retries the preempted training from the alarm, reviews, trains another round after a rejection, and completes on approval", async () => {
    const r = objectRunner("training-loop");
    const instance = await r.create("ex-train-approve", CATS);

    // Round 1's first training attempt fails; its retry waits a minute on the object's alarm.
    let seen = await r.settle(instance, ({ history }) => failuresOf(history, "train#1").length === 1, "round 1's training to be preempted");
    expect(seen.status).toMatchObject({ status: "waiting", value: "training" });
    const [failure] = failuresOf(seen.history, "train#1");
    expect(failure!.data).toMatchObject({ attempt: 1, error: { message: expect.stringContaining("preempted") } });
    expect(failure!.data.retryAt! - failure!.at).toBe(MINUTE);

    await r.advance(instance, MINUTE);
    seen = await r.settle(instance, waitingIn("awaitingFeedback"), "the first review");
    expect(ofType(seen.history, "step.succeeded").map((x) => `${x.data.key}@${x.data.attempt}`)).toEqual(TWO_ROUNDS_WITH_ATTEMPTS);
    const [window] = ofType(seen.history, "timer.started");
    expect(window!.data.id).toBe("xstate.after.feedbackWindow.training-loop.awaitingFeedback#1");
    expect(window!.data.dueAt - window!.at).toBe(DAY);

    await instance.sendEvent({ type: "feedback", payload: { approve: false, note: "more epochs" } });
    seen = await r.settle(instance, (s) => waitingIn("awaitingFeedback")(s) && ofType(s.history, "timer.started").length === 2, "the second review");
    expect(ofType(seen.history, "timer.started").map((x) => x.data.id)).toEqual([
      "xstate.after.feedbackWindow.training-loop.awaitingFeedback#1",
      "xstate.after.feedbackWindow.training-loop.awaitingFeedback#2",
    ]);

    await instance.sendEvent({ type: "feedback", payload: { approve: true } });
    seen = await r.settle(instance, complete, "completion");
    expect(seen.status).toEqual({ status: "complete", value: "approved", output: APPROVED_IN_ROUND_3 });
    expect(ofType(seen.history, "step.succeeded").map((x) => x.data.key)).toEqual(THREE_ROUNDS_OF_STEPS);
    expect(ofType(seen.history, "step.attempt_failed").map((x) => x.data.key)).toEqual(["train#1"]);
    expect(ofType(seen.history, "timer.cancelled").map((x) => x.data.id)).toEqual([
      "xstate.after.feedbackWindow.training-loop.awaitingFeedback#1",
      "xstate.after.feedbackWindow.training-loop.awaitingFeedback#2",
    ]);
    expect(ofType(seen.history, "timer.fired")).toHaveLength(0);
    expect(seen.history.at(-1)).toMatchObject({ type: "instance.completed", data: { output: APPROVED_IN_ROUND_3 } });
    expect(Object.values(firstStarts(seen.history)).every((n) => n === 1)).toBe(true);

    // The finished instance refuses more feedback and its log stays as it was.
    await expect(instance.sendEvent({ type: "feedback", payload: { approve: true } })).rejects.toMatchObject({ code: "instance.finished" });
    expect(await instance.history()).toEqual(seen.history);
    expect(await client().workflow("training-loop").get("ex-train-approve").then((i) => i.status())).toEqual(seen.status);
  });

  it("times out from the alarm when nobody reviews within the feedback window (an early ring changes nothing)", async () => {
    const r = objectRunner("training-loop");
    const { instance } = await trainToFirstReview(r, "ex-train-timeout");

    // Rung an hour before the window closes, the alarm finds nothing due and is set again.
    await r.advance(instance, DAY - HOUR);
    let seen = await read(instance);
    expect(seen.status).toMatchObject({ status: "waiting", value: "awaitingFeedback" });
    expect(ofType(seen.history, "timer.fired")).toHaveLength(0);

    await r.advance(instance, HOUR);
    seen = await r.settle(instance, complete, "the timeout");
    expect(seen.status).toEqual({
      status: "complete",
      value: "timedOut",
      output: { dataset: "cats-vs-dogs", outcome: "timedOut", rounds: 2, checkpoint: "ckpt-r2", loss: 0.4, losses: [0.8, 0.4], reviews: [] },
    });
    expect(ofType(seen.history, "timer.fired").map((x) => x.data.id)).toEqual(["xstate.after.feedbackWindow.training-loop.awaitingFeedback#1"]);
    expect(ofType(seen.history, "event.received")).toHaveLength(0);
    await expectOnlyRetentionAlarm(() => objectOf("training-loop", instance.id), () => read(instance));
  });
});

// ---------------------------------------------------------------- data-pipeline

async function pipelineRun(r: Runner, id: string): Promise<Seen> {
  const instance = await r.create(id, ORDERS);
  await r.settle(
    instance,
    (seen) => seen.status.status === "waiting" && failuresOf(seen.history, THROTTLED_KEY).length === 1,
    "partitions 0 and 2 to be written and partition 1's throttled write to wait",
  );
  await r.pause(instance);
  await r.advance(instance, 5 * SECOND);
  return r.settle(instance, complete, "completion");
}

describe("data-pipeline on the Durable Object host", () => {
  it("transforms the partitions two at a time, retries the throttled write from the alarm, joins and publishes", async () => {
    const r = objectRunner("data-pipeline");
    const instance = await r.create("ex-pipeline-3", ORDERS);

    let seen = await r.settle(instance, (s) => s.status.status === "waiting" && failuresOf(s.history, THROTTLED_KEY).length === 1, "the throttled write");
    expect(seen.status).toEqual({ status: "waiting", value: THROTTLED });
    const [failure] = failuresOf(seen.history, THROTTLED_KEY);
    expect(failure!.data).toMatchObject({ attempt: 1, error: { message: "sink returned 503 for partition 1 (simulated transient error)" } });
    expect(failure!.data.retryAt! - failure!.at).toBe(5 * SECOND);

    await r.advance(instance, 5 * SECOND);
    seen = await r.settle(instance, complete, "completion");
    expect(seen.status).toMatchObject({
      status: "complete",
      value: { ingest: "done", transform: "done", join: "done", publish: "done" },
      output: ORDERS_DONE,
    });
    // The whole output, checksum included, is the memory host's.
    const memory = await pipelineRun(memoryRunner(dataPipeline), "ex-pipeline-3");
    expect(seen.status.output as unknown as PipelineOutput).toEqual(memory.status.output);

    const types = seen.history.map((x) => (x.type === "step.started" || x.type === "step.succeeded" ? `${x.type} ${x.data.key}` : x.type));
    // Two transforms start together; the third waits for a free slot.
    expect(types.slice(3, 5)).toEqual(["step.started transform.slot0#1", "step.started transform.slot1#1"]);
    expect(types.indexOf("step.started transform.slot0#2")).toBeGreaterThan(types.indexOf("step.succeeded transform.slot0#1"));
    expect(types.indexOf("step.started join#1")).toBeGreaterThan(types.indexOf(`step.succeeded ${THROTTLED_KEY}`));
    expect(ofType(seen.history, "step.succeeded").map((x) => `${x.data.key}@${x.data.attempt}`)).toEqual(ORDERS_SUCCEEDED);
    expect(firstStarts(seen.history)).toEqual({ "ingest#1": 1, "transform.slot0#1": 1, "transform.slot1#1": 1, "transform.slot0#2": 1, "join#1": 1, "publish#1": 1 });
    expect(seen.history.at(-1)).toEqual(expect.objectContaining({ type: "instance.completed", data: { output: seen.status.output } }));
  });
});

// ---------------------------------------------------------------- grocery-agent

/** The order's checkout times out twice (10 s, then 20 s of backoff), then the delivery is confirmed. */
async function groceryRun(r: Runner, id: string): Promise<Seen> {
  const instance = await r.create(id, WEEK);
  await r.settle(instance, (seen) => seen.status.status === "waiting" && failuresOf(seen.history, "order#1").length === 1, "the first checkout timeout");
  await r.pause(instance);
  await r.advance(instance, 10 * SECOND);
  await r.settle(instance, (seen) => seen.status.status === "waiting" && failuresOf(seen.history, "order#1").length === 2, "the second checkout timeout");
  await r.pause(instance);
  await r.advance(instance, 20 * SECOND);
  await r.settle(instance, waitingIn("awaitingDelivery"), "the order to be placed");
  await r.pause(instance);
  await instance.sendEvent({ type: "delivered", payload: { receivedBy: "front desk" } });
  return r.settle(instance, complete, "completion");
}

describe("grocery-agent on the Durable Object host", () => {
  it("compiles the list, substitutes, places the order through two checkout timeouts (retried from the alarm), and completes on delivery", async () => {
    const r = objectRunner("grocery-agent");
    const instance = await r.create("ex-grocery-week", WEEK);

    let seen = await r.settle(instance, (s) => s.status.status === "waiting" && failuresOf(s.history, "order#1").length === 1, "the first checkout timeout");
    expect(seen.status).toMatchObject({ status: "waiting", value: "ordering" });
    await r.advance(instance, 10 * SECOND);
    seen = await r.settle(instance, (s) => s.status.status === "waiting" && failuresOf(s.history, "order#1").length === 2, "the second checkout timeout");
    const failures = failuresOf(seen.history, "order#1");
    expect(failures.map((x) => ({ attempt: x.data.attempt, backoff: x.data.retryAt! - x.at, message: x.data.error.message }))).toEqual([
      { attempt: 1, backoff: 10 * SECOND, message: "store checkout timed out on attempt 1 (simulated transient error)" },
      { attempt: 2, backoff: 20 * SECOND, message: "store checkout timed out on attempt 2 (simulated transient error)" },
    ]);

    await r.advance(instance, 20 * SECOND);
    seen = await r.settle(instance, waitingIn("awaitingDelivery"), "the order to be placed");
    const [window] = ofType(seen.history, "timer.started");
    expect(window!.data.id).toBe("xstate.after.deliveryWindow.grocery-agent.awaitingDelivery#1");
    expect(window!.data.dueAt - window!.at).toBe(2 * DAY);

    await instance.sendEvent({ type: "delivered", payload: { receivedBy: "front desk" } });
    seen = await r.settle(instance, complete, "completion");
    expect(seen.status).toEqual({ status: "complete", value: "delivered", output: DELIVERED });
    expect(ofType(seen.history, "step.succeeded").map((x) => `${x.data.key}@${x.data.attempt}`)).toEqual(["compile#1@1", "stock#1@1", "order#1@3"]);
    expect(ofType(seen.history, "timer.cancelled").map((x) => x.data.id)).toEqual([window!.data.id]);
    expect(seen.history.at(-1)).toMatchObject({ type: "instance.completed", data: { output: DELIVERED } });
    await expectOnlyRetentionAlarm(() => objectOf("grocery-agent", instance.id), () => read(instance));
  });

  it("stops at overBudget without retrying when the order would cost more than the budget", async () => {
    const r = objectRunner("grocery-agent");
    const instance = await r.create("ex-grocery-over", { ...WEEK, budget: 40 });
    const seen = await r.settle(instance, complete, "completion");
    expect(seen.status).toEqual({
      status: "complete",
      value: "overBudget",
      output: OVER_BUDGET,
    });
    expect(ofType(seen.history, "step.attempt_failed").map((x) => x.data)).toEqual([
      { key: "order#1", attempt: 1, error: { name: "NonRetryableError", message: "the order comes to $42.32, over the budget of $40.00" } },
    ]);
    expect(ofType(seen.history, "step.failed").map((x) => x.data.key)).toEqual(["order#1"]);
    expect(firstStarts(seen.history)).toEqual({ "compile#1": 1, "stock#1": 1, "order#1": 1 });
    expect(ofType(seen.history, "timer.started")).toHaveLength(0);
  });
});

/** The delivery is confirmed while the order still retries: the event waits in the inbox. */
async function groceryEarlyDelivery(r: Runner, id: string): Promise<Seen> {
  const instance = await r.create(id, WEEK);
  await r.settle(instance, (s) => s.status.status === "waiting" && failuresOf(s.history, "order#1").length === 1, "the first checkout timeout");
  await instance.sendEvent({ type: "delivered", payload: { receivedBy: "neighbour" } });
  expect(await instance.status()).toMatchObject({ status: "waiting", value: "ordering" });
  await r.pause(instance); // with the event waiting in the inbox
  await r.advance(instance, 10 * SECOND);
  await r.settle(instance, (s) => s.status.status === "waiting" && failuresOf(s.history, "order#1").length === 2, "the second checkout timeout");
  await r.advance(instance, 20 * SECOND);
  return r.settle(instance, complete, "completion");
}

describe("grocery-agent, an early delivery across a crash", () => {
  it("keeps a delivery confirmed while the order still retries, across an abort, and finishes with it once the order is placed", async () => {
    const r = objectRunner("grocery-agent", { crash: true });
    const seen = await groceryEarlyDelivery(r, "ex-grocery-early");
    expect(r.aborts).toBe(1);
    expect(seen.status).toEqual({ status: "complete", value: "delivered", output: { ...DELIVERED, receivedBy: "neighbour" } });
    expect(ofType(seen.history, "event.received")).toHaveLength(1);
    // The waiting confirmation is taken in the same step as the order's success: no delivery window ever opens.
    const types = seen.history.map((x) => x.type);
    expect(types.slice(types.indexOf("event.received"))).toEqual(["event.received", "step.started", "step.attempt_failed", "step.started", "step.succeeded", "instance.completed"]);
    expect(firstStarts(seen.history)).toEqual({ "compile#1": 1, "stock#1": 1, "order#1": 1 });
    const memory = await groceryEarlyDelivery(memoryRunner(groceryAgent), "ex-grocery-early");
    expect(shape(seen.history)).toEqual(shape(memory.history));
  });
});

// ---------------------------------------------------------------- across hosts

describe("the same inputs on both hosts", () => {
  it("grocery-agent: the memory host and the Durable Object host write the same log, record for record", async () => {
    const memory = await groceryRun(memoryRunner(groceryAgent), "ex-grocery-both");
    const object = await groceryRun(objectRunner("grocery-agent"), "ex-grocery-both");
    expect(object.status).toEqual(memory.status);
    expect(object.status).toEqual({ status: "complete", value: "delivered", output: DELIVERED });
    expect(shape(object.history)).toEqual(shape(memory.history));
    expect(object.history.map((x) => x.type)).toContain("timer.cancelled");
  });

  it("data-pipeline: the fan-out, two at a time, and its retry are logged in the same order on both hosts", async () => {
    const memory = await pipelineRun(memoryRunner(dataPipeline), "ex-pipeline-both");
    const object = await pipelineRun(objectRunner("data-pipeline"), "ex-pipeline-both");
    expect(object.status).toEqual(memory.status);
    expect(shape(object.history)).toEqual(shape(memory.history));
  });

  it("training-loop: three rounds, two reviews, the same log on both hosts", async () => {
    const memory = await trainRejectThenApprove(memoryRunner(trainingLoop), "ex-train-both");
    const object = await trainRejectThenApprove(objectRunner("training-loop"), "ex-train-both");
    expect(object.status).toEqual({ status: "complete", value: "approved", output: APPROVED_IN_ROUND_3 });
    expect(object.status).toEqual(memory.status);
    expect(shape(object.history)).toEqual(shape(memory.history));
  });
});

// ---------------------------------------------------------------- crashes

describe("an example aborted while it waits", () => {
  it("data-pipeline: aborted while partition 1's write waits for its retry, it transforms no partition twice and ends as the memory host's run", async () => {
    const memory = await pipelineRun(memoryRunner(dataPipeline), "ex-pipeline-crash");
    const r = objectRunner("data-pipeline", { crash: true });
    const crashed = await pipelineRun(r, "ex-pipeline-crash");
    expect(r.aborts).toBe(1);
    expect(crashed.status).toEqual(memory.status);
    expect(crashed.status).toMatchObject({ status: "complete", output: ORDERS_DONE });
    expect(Object.values(firstStarts(crashed.history)).every((n) => n === 1)).toBe(true);
    expect(shape(crashed.history)).toEqual(shape(memory.history));
  });

  it("training-loop: aborted during its retry backoff and at both reviews, it ends as the memory host's run without crashes, re-running no step", async () => {
    const memory = await trainRejectThenApprove(memoryRunner(trainingLoop), "ex-train-crash");
    const r = objectRunner("training-loop", { crash: true });
    const crashed = await trainRejectThenApprove(r, "ex-train-crash");
    // Aborted while round 1's training waited for its retry, before the first review and before the second.
    expect(r.aborts).toBe(3);

    expect(crashed.status).toEqual(memory.status);
    expect(crashed.status).toEqual({ status: "complete", value: "approved", output: APPROVED_IN_ROUND_3 });
    const starts = firstStarts(crashed.history);
    expect(starts).toEqual(firstStarts(memory.history));
    expect(Object.keys(starts)).toHaveLength(10);
    expect(Object.values(starts).every((n) => n === 1)).toBe(true);
    // train#1 started twice in all (its preempted attempt and its retry), as without the crashes.
    expect(ofType(crashed.history, "step.started").filter((x) => x.data.key === "train#1").map((x) => x.data.attempt)).toEqual([1, 2]);
    // The crashes left no trace in the log: it is the memory host's, record for record.
    expect(shape(crashed.history)).toEqual(shape(memory.history));
  });

  it("grocery-agent: aborted during both checkout backoffs and while awaiting delivery, it places one order and ends as the memory host's run", async () => {
    const memory = await groceryRun(memoryRunner(groceryAgent), "ex-grocery-crash");
    const r = objectRunner("grocery-agent", { crash: true });
    const crashed = await groceryRun(r, "ex-grocery-crash");
    expect(r.aborts).toBe(3);
    expect(crashed.status).toEqual({ status: "complete", value: "delivered", output: DELIVERED });
    expect(firstStarts(crashed.history)).toEqual({ "compile#1": 1, "stock#1": 1, "order#1": 1 });
    expect(firstStarts(crashed.history)).toEqual(firstStarts(memory.history));
    expect(ofType(crashed.history, "step.started").filter((x) => x.data.key === "order#1").map((x) => x.data.attempt)).toEqual([1, 2, 3]);
    expect(shape(crashed.history)).toEqual(shape(memory.history));
  });
});
