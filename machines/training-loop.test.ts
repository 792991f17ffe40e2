import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, type LogRecord } from "../index";
import { trainingLoop, type TrainingOutput } from "./training-loop";
import { APPROVED_IN_ROUND_3, THREE_ROUNDS_OF_STEPS } from "./training-loop.scenario";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

function start() {
  const clock = createManualClock();
  const host = createMemoryHost({ workflows: [trainingLoop], clock });
  return { clock, host, client: host.workflow("training-loop") };
}

const ofType = <T extends LogRecord["type"]>(history: LogRecord[], type: T) => history.filter((r) => r.type === type) as LogRecord<T>[];
const startsOf = (history: LogRecord[], key: string) => ofType(history, "step.started").filter((r) => r.data.key === key).length;

/** Runs round 1 (whose training is preempted once, then retried a minute later) and round 2, up to the review. */
async function runToFirstReview({ clock, host }: ReturnType<typeof start>) {
  await host.idle();
  clock.advance(MINUTE);
  await host.idle();
}

describe("training-loop", () => {
  it("labels, trains until the loss meets the target (retrying a preempted run), waits for review, and stops on approval", async () => {
    const env = start();
    const { clock, host, client } = env;
    const instance = await client.create({ id: "cats-1", params: { dataset: "cats-vs-dogs" } });
    await host.idle();

    // Round 1's training failed on its first attempt and waits a minute to retry.
    expect(await instance.status()).toMatchObject({ status: "waiting", value: "training" });
    let history = await instance.history();
    expect(ofType(history, "step.attempt_failed").map((r) => ({ key: r.data.key, attempt: r.data.attempt, retryAt: r.data.retryAt }))).toEqual([
      { key: "train#1", attempt: 1, retryAt: MINUTE },
    ]);
    expect(ofType(history, "step.attempt_failed")[0]!.data.error.message).toContain("preempted");

    clock.advance(MINUTE - 1);
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "waiting", value: "training" });
    clock.advance(1);
    await host.idle();

    // Round 1 (loss 0.8) was above the 0.5 target, so round 2 ran on its own; its loss of 0.4 goes to review.
    expect(await instance.status()).toMatchObject({ status: "waiting", value: "awaitingFeedback" });
    history = await instance.history();
    expect(ofType(history, "step.succeeded").map((r) => r.data.key)).toEqual(["label#1", "feed#1", "train#1", "evaluate#1", "feed#2", "train#2", "evaluate#2"]);
    expect(ofType(history, "step.succeeded").find((r) => r.data.key === "train#1")!.data.attempt).toBe(2);
    const [window] = ofType(history, "timer.started");
    expect(window!.data).toEqual({ id: "xstate.after.feedbackWindow.training-loop.awaitingFeedback#1", dueAt: MINUTE + DAY });

    await instance.sendEvent({ type: "feedback", payload: { approve: true, note: "ship it" } });

    const output: TrainingOutput = {
      dataset: "cats-vs-dogs",
      outcome: "approved",
      rounds: 2,
      checkpoint: "ckpt-r2",
      loss: 0.4,
      losses: [0.8, 0.4],
      reviews: [{ round: 2, approve: true, note: "ship it" }],
    };
    expect(await instance.status()).toEqual({ status: "complete", output, value: "approved" });
    history = await instance.history();
    expect(ofType(history, "step.attempt_failed")).toHaveLength(1);
    expect(ofType(history, "timer.cancelled").map((r) => r.data.id)).toEqual([window!.data.id]);
    expect(ofType(history, "timer.fired")).toHaveLength(0);
    expect(history.at(-1)).toMatchObject({ type: "instance.completed", data: { output } });
    expect(startsOf(history, "label#1")).toBe(1);
  });

  it("trains another round after a rejection, with a fresh review window, then stops on approval", async () => {
    const env = start();
    const { clock, host, client } = env;
    const instance = await client.create({ id: "cats-2", params: { dataset: "cats-vs-dogs" } });
    await runToFirstReview(env);
    clock.advance(2 * 60 * MINUTE);
    await instance.sendEvent({ type: "feedback", payload: { approve: false, note: "more epochs" } });
    await host.idle();

    expect(await instance.status()).toMatchObject({ status: "waiting", value: "awaitingFeedback" });
    let history = await instance.history();
    const windows = ofType(history, "timer.started");
    expect(windows.map((r) => r.data.id)).toEqual([
      "xstate.after.feedbackWindow.training-loop.awaitingFeedback#1",
      "xstate.after.feedbackWindow.training-loop.awaitingFeedback#2",
    ]);
    // The second window opens when round 3 has been evaluated: a full day from then.
    expect(windows[1]!.data.dueAt).toBe(MINUTE + 2 * 60 * MINUTE + DAY);

    await instance.sendEvent({ type: "feedback", payload: { approve: true } });
    expect(await instance.status()).toEqual({
      status: "complete",
      value: "approved",
      output: APPROVED_IN_ROUND_3,
    });
    history = await instance.history();
    expect(ofType(history, "step.succeeded").map((r) => r.data.key)).toEqual(THREE_ROUNDS_OF_STEPS);
    // Only round 1's training failed; later rounds train on their first attempt.
    expect(ofType(history, "step.attempt_failed").map((r) => r.data.key)).toEqual(["train#1"]);
  });

  it("ends exhausted when the last round allowed is rejected, and reviews at once a round that meets the target", async () => {
    const env = start();
    const { host, client } = env;
    const instance = await client.create({ id: "cats-3", params: { dataset: "cats-vs-dogs", maxRounds: 1, targetLoss: 0.9 } });
    await runToFirstReview(env);

    // Round 1's loss of 0.8 already meets a 0.9 target: no second round before review.
    expect(await instance.status()).toMatchObject({ status: "waiting", value: "awaitingFeedback" });
    await instance.sendEvent({ type: "feedback", payload: { approve: false, note: "still confuses huskies with wolves" } });
    await host.idle();

    expect(await instance.status()).toEqual({
      status: "complete",
      value: "exhausted",
      output: {
        dataset: "cats-vs-dogs",
        outcome: "exhausted",
        rounds: 1,
        checkpoint: "ckpt-r1",
        loss: 0.8,
        losses: [0.8],
        reviews: [{ round: 1, approve: false, note: "still confuses huskies with wolves" }],
      },
    });
    const history = await instance.history();
    expect(ofType(history, "step.started").filter((r) => r.data.key.startsWith("feed#"))).toHaveLength(1);
    await expect(instance.sendEvent({ type: "feedback", payload: { approve: true } })).rejects.toMatchObject({ code: "instance.finished" });
  });

  it("times out when nobody reviews within the feedback window", async () => {
    const env = start();
    const { clock, host, client } = env;
    const instance = await client.create({ id: "cats-4", params: { dataset: "cats-vs-dogs" } });
    await runToFirstReview(env);

    clock.advance(DAY - 1);
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "waiting", value: "awaitingFeedback" });
    clock.advance(1);
    await host.idle();

    expect(await instance.status()).toEqual({
      status: "complete",
      value: "timedOut",
      output: { dataset: "cats-vs-dogs", outcome: "timedOut", rounds: 2, checkpoint: "ckpt-r2", loss: 0.4, losses: [0.8, 0.4], reviews: [] },
    });
    const history = await instance.history();
    const fired = ofType(history, "timer.fired");
    expect(fired.map((r) => ({ id: r.data.id, at: r.at }))).toEqual([{ id: "xstate.after.feedbackWindow.training-loop.awaitingFeedback#1", at: MINUTE + DAY }]);
  });

  it("survives crashes during a retry backoff and during the review, ending as a run without crashes does", async () => {
    async function run(crash: boolean) {
      const { clock, host, client } = start();
      const instance = await client.create({ id: "cats-5", params: { dataset: "cats-vs-dogs" } });
      await host.idle();
      if (crash) host.crash(); // round 1's training waits for its retry
      clock.advance(MINUTE);
      await host.idle();
      if (crash) host.crash(); // waiting for the first review
      clock.advance(60 * MINUTE);
      await instance.sendEvent({ type: "feedback", payload: { approve: false, note: "more epochs" } });
      await host.idle();
      if (crash) host.crash(); // waiting for the second review
      clock.advance(60 * MINUTE);
      await instance.sendEvent({ type: "feedback", payload: { approve: true } });
      return { status: await instance.status(), history: await instance.history() };
    }

    const calm = await run(false);
    const crashed = await run(true);
    expect(crashed.status).toEqual(calm.status);
    expect(crashed.status).toMatchObject({ status: "complete", value: "approved", output: { rounds: 3, losses: [0.8, 0.4, 0.2] } });
    // The crashes cost nothing: the same records, at the same times; no step ran twice.
    const shape = (history: LogRecord[]) => history.map((r) => ({ type: r.type, at: r.at, data: r.data }));
    expect(shape(crashed.history)).toEqual(shape(calm.history));
    for (const key of ["label#1", "feed#1", "evaluate#1", "feed#2", "train#2", "evaluate#2"]) expect(startsOf(crashed.history, key)).toBe(1);
    expect(startsOf(crashed.history, "train#1")).toBe(2);
  });
});

describe("training-loop without params", () => {
  it("errors with a message that says which params to send", async () => {
    const host = createMemoryHost({ workflows: [trainingLoop], clock: createManualClock() });
    const instance = await host.workflow("training-loop").create({ id: "no-params" });
    expect(await instance.status()).toMatchObject({ status: "errored", error: { name: "Error", message: 'training-loop needs params like {"dataset": "reviews"}' } });
  });
});
