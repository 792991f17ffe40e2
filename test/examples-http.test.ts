import { env, exports } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { LogRecord } from "../core/records";
import type { GroceryOutput } from "../machines/grocery-agent";
import { DELIVERED, LIST, WEEK, OVER_BUDGET } from "../machines/grocery-agent.scenario";
import type { TrainingOutput } from "../machines/training-loop";
import { APPROVED_IN_ROUND_3, CATS, THREE_ROUNDS_OF_STEPS, TWO_ROUNDS_WITH_ATTEMPTS } from "../machines/training-loop.scenario";
import { expectOnlyRetentionAlarm } from "./retention-alarm";
import { skipAhead } from "./skew-clock";
import { until } from "./until";
import { workflows } from "./worker";
import { ORDERS, ORDERS_DONE, ORDERS_SUCCEEDED, THROTTLED, THROTTLED_KEY } from "../machines/data-pipeline.scenario";

/**
 * The three example workflows, end to end, through the HTTP API alone, as a
 * user would drive them with curl (README, "Try the example Worker"): create,
 * read the status until it waits, send events, read the history, list by
 * status. The only things done outside HTTP are moving the instances' clock
 * (`skipAhead`) and ringing the instance object's alarm
 * (`runDurableObjectAlarm`), so that a retry backoff or a one-day timeout is
 * reached at once. `skipAhead` is global to the isolate: the tests run one
 * after another.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The Worker's default export, called in-process through its loopback binding. */
const worker = (exports as unknown as { default: Fetcher }).default;
const BASE = "https://example.com/api";
const AUTH = { authorization: "Bearer test-token" };

type Body = Record<string, any>;
interface Reply {
  status: number;
  body: Body;
}

async function api(method: string, path: string, body?: unknown): Promise<Reply> {
  const response = await worker.fetch(
    new Request(`${BASE}${path}`, {
      method,
      headers: { ...AUTH, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  return { status: response.status, body: (await response.json()) as Body };
}

const get = (path: string) => api("GET", path);
const post = (path: string, body?: unknown) => api("POST", path, body);

/** An id no earlier run (or other test file) can have used. */
const uniqueId = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

const instancesPath = (workflow: string) => `/workflows/${workflow}/instances`;
const instancePath = (workflow: string, id: string) => `${instancesPath(workflow)}/${encodeURIComponent(id)}`;

/** The object behind an instance, reached as test/examples.test.ts reaches it: only to ring its alarm. */
const objectOf = (workflow: string, id: string) => workflows.client(env).stub(workflow, id) as unknown as DurableObjectStub;

async function create(workflow: string, id: string, params: unknown): Promise<Body> {
  const answer = await post(instancesPath(workflow), { id, params });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  expect(answer.body.id).toBe(id);
  expect(["running", "waiting", "complete"]).toContain(answer.body.status);
  return answer.body;
}

async function statusOf(workflow: string, id: string): Promise<Body> {
  const answer = await get(instancePath(workflow, id));
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(answer.body.id).toBe(id);
  return answer.body;
}

/** The whole log, page by page through `after` and `next`. */
async function historyOf(workflow: string, id: string, pageSize?: number): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  for (let page = 0; page < 1000; page++) {
    const query = new URLSearchParams();
    if (records.length) query.set("after", String(records.at(-1)!.seq));
    if (pageSize !== undefined) query.set("limit", String(pageSize));
    const answer = await get(`${instancePath(workflow, id)}/history${query.size ? `?${query}` : ""}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const batch = answer.body.records as LogRecord[];
    records.push(...batch);
    // `next` is there only when more records follow, and then it is the last seq of this page.
    if (answer.body.next === undefined) return records;
    expect(answer.body.next).toBe(batch.at(-1)!.seq);
  }
  throw new Error(`${workflow}/${id}: the history did not end`);
}

interface Seen {
  status: Body;
  history: LogRecord[];
}

const read = async (workflow: string, id: string): Promise<Seen> => ({ status: await statusOf(workflow, id), history: await historyOf(workflow, id) });

/** Polls the status and the history over HTTP until `done` holds. */
const settle = (workflow: string, id: string, done: (seen: Seen) => boolean, what: string) => until(() => read(workflow, id), done, `${workflow}/${id}: ${what}`);

/** Moves the instances' clock `ms` ahead and rings the instance's alarm, which must have been set. */
async function advance(workflow: string, id: string, ms: number): Promise<void> {
  skipAhead(ms);
  expect(await runDurableObjectAlarm(objectOf(workflow, id)), `an alarm was set for ${workflow}/${id}`).toBe(true);
}

async function sendEvent(workflow: string, id: string, event: { type: string; payload?: unknown }): Promise<Body> {
  const answer = await post(`${instancePath(workflow, id)}/events`, event);
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  expect(answer.body.id).toBe(id);
  return answer.body;
}

/** Every id listed under `status`, following the cursor through every page. */
async function listed(workflow: string, status: string): Promise<{ id: string; status: string; createdAt: number; updatedAt: number }[]> {
  const all: { id: string; status: string; createdAt: number; updatedAt: number }[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const answer = await get(`${instancesPath(workflow)}?status=${status}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    all.push(...(answer.body.instances as typeof all));
    cursor = answer.body.cursor as string | undefined;
    if (cursor === undefined) return all;
  }
  throw new Error(`${workflow}: the listing did not end`);
}

/** The registry hears of status changes after the fact: poll until it lists the instance as complete. */
async function expectListedComplete(workflow: string, id: string): Promise<void> {
  const entries = await until(() => listed(workflow, "complete"), (all) => all.some((entry) => entry.id === id), `${workflow}/${id} to be listed as complete`);
  const entry = entries.find((e) => e.id === id)!;
  expect(entry).toMatchObject({ id, status: "complete" });
  expect(typeof entry.createdAt).toBe("number");
  for (const e of entries) expect(e.status).toBe("complete");
  // And it is no longer listed as waiting or running.
  expect((await listed(workflow, "waiting")).map((e) => e.id)).not.toContain(id);
  expect((await listed(workflow, "running")).map((e) => e.id)).not.toContain(id);
}

/** What every finished log must look like: seq 1, 2, 3, … with no gap, created first, completed last, readable in any page size. */
async function expectWellFormedLog(workflow: string, id: string, history: LogRecord[], output: unknown): Promise<void> {
  expect(history.map((r) => r.seq)).toEqual(history.map((_, i) => i + 1));
  expect(history[0]).toMatchObject({ type: "instance.created", data: { workflow, instanceId: id } });
  expect(history.at(-1)).toMatchObject({ type: "instance.completed", data: { output } });
  expect(history.filter((r) => r.type === "instance.completed")).toHaveLength(1);
  for (let i = 1; i < history.length; i++) expect(history[i]!.at).toBeGreaterThanOrEqual(history[i - 1]!.at);
  // The same log, read three records at a time.
  expect(await historyOf(workflow, id, 3)).toEqual(history);
}

/** A finished instance refuses events with 409 and keeps its log as it was. */
async function expectFinished(workflow: string, id: string, event: { type: string; payload?: unknown }, history: LogRecord[]): Promise<void> {
  const refused = await post(`${instancePath(workflow, id)}/events`, event);
  expect(refused.status, JSON.stringify(refused.body)).toBe(409);
  expect(refused.body.error.code).toBe("instance.finished");
  expect(await historyOf(workflow, id)).toEqual(history);
  await expectOnlyRetentionAlarm(() => objectOf(workflow, id), () => read(workflow, id));
}

const ofType = <T extends LogRecord["type"]>(history: LogRecord[], type: T) => history.filter((r) => r.type === type) as LogRecord<T>[];
const failuresOf = (history: LogRecord[], key: string) => ofType(history, "step.attempt_failed").filter((r) => r.data.key === key);
const waitingIn = (value: string) => (seen: Seen) => seen.status.status === "waiting" && seen.status.value === value;
const complete = (seen: Seen) => seen.status.status === "complete";

// ---------------------------------------------------------------- grocery-agent

describe("grocery-agent over HTTP", () => {
  it("creates, retries the order twice from the alarm, waits for delivery, completes on the delivered event, and is listed as complete", async () => {
    const wf = "grocery-agent";
    const id = uniqueId("http-grocery");
    await create(wf, id, WEEK);

    let seen = await settle(wf, id, (s) => s.status.status === "waiting" && failuresOf(s.history, "order#1").length === 1, "the first checkout timeout");
    expect(seen.status).toEqual({ id, status: "waiting", value: "ordering" });
    await advance(wf, id, 10 * SECOND);
    seen = await settle(wf, id, (s) => s.status.status === "waiting" && failuresOf(s.history, "order#1").length === 2, "the second checkout timeout");
    expect(seen.status).toEqual({ id, status: "waiting", value: "ordering" });
    await advance(wf, id, 20 * SECOND);

    seen = await settle(wf, id, waitingIn("awaitingDelivery"), "the order to be placed");
    expect(seen.status).toEqual({ id, status: "waiting", value: "awaitingDelivery" });
    const [window] = ofType(seen.history, "timer.started");
    expect(window!.data.id).toBe("xstate.after.deliveryWindow.grocery-agent.awaitingDelivery#1");
    expect(window!.data.dueAt - window!.at).toBe(2 * DAY);

    const sent = await sendEvent(wf, id, { type: "delivered", payload: { receivedBy: "front desk" } });
    expect(["running", "waiting", "complete"]).toContain(sent.status);
    seen = await settle(wf, id, complete, "completion");
    expect(seen.status).toEqual({ id, status: "complete", value: "delivered", output: DELIVERED });

    const { history } = seen;
    await expectWellFormedLog(wf, id, history, DELIVERED);
    expect(history[0]).toMatchObject({ data: { params: WEEK } });
    expect(ofType(history, "step.attempt_failed").map((r) => ({ key: r.data.key, attempt: r.data.attempt, backoff: r.data.retryAt! - r.at, message: r.data.error.message }))).toEqual([
      { key: "order#1", attempt: 1, backoff: 10 * SECOND, message: "store checkout timed out on attempt 1 (simulated transient error)" },
      { key: "order#1", attempt: 2, backoff: 20 * SECOND, message: "store checkout timed out on attempt 2 (simulated transient error)" },
    ]);
    expect(ofType(history, "step.succeeded").map((r) => `${r.data.key}@${r.data.attempt}`)).toEqual(["compile#1@1", "stock#1@1", "order#1@3"]);
    expect(ofType(history, "step.started").map((r) => `${r.data.key}@${r.data.attempt}`)).toEqual(["compile#1@1", "stock#1@1", "order#1@1", "order#1@2", "order#1@3"]);
    expect(ofType(history, "event.received").map((r) => r.data)).toEqual([{ type: "delivered", payload: { receivedBy: "front desk" } }]);
    expect(ofType(history, "timer.cancelled").map((r) => r.data.id)).toEqual([window!.data.id]);
    expect(ofType(history, "timer.fired")).toHaveLength(0);
    expect(history.map((r) => r.type)).toEqual([
      "instance.created",
      "step.started",
      "step.succeeded",
      "step.started",
      "step.succeeded",
      "step.started",
      "step.attempt_failed",
      "step.started",
      "step.attempt_failed",
      "step.started",
      "step.succeeded",
      "timer.started",
      "event.received",
      "timer.cancelled",
      "instance.completed",
    ]);

    await expectFinished(wf, id, { type: "delivered", payload: { receivedBy: "someone else" } }, history);
    expect(await statusOf(wf, id)).toEqual(seen.status);
    await expectListedComplete(wf, id);
  });

  it("stops at overBudget without retrying, complete, and is listed as complete", async () => {
    const wf = "grocery-agent";
    const id = uniqueId("http-grocery-over");
    await create(wf, id, { ...WEEK, budget: 40 });

    const seen = await settle(wf, id, complete, "completion");
    const output: GroceryOutput = OVER_BUDGET;
    expect(seen.status).toEqual({ id, status: "complete", value: "overBudget", output });

    const { history } = seen;
    await expectWellFormedLog(wf, id, history, output);
    expect(ofType(history, "step.attempt_failed").map((r) => r.data)).toEqual([
      { key: "order#1", attempt: 1, error: { name: "NonRetryableError", message: "the order comes to $42.32, over the budget of $40.00" } },
    ]);
    expect(ofType(history, "step.failed").map((r) => r.data.key)).toEqual(["order#1"]);
    expect(ofType(history, "step.started").map((r) => `${r.data.key}@${r.data.attempt}`)).toEqual(["compile#1@1", "stock#1@1", "order#1@1"]);
    expect(ofType(history, "timer.started")).toHaveLength(0);

    await expectFinished(wf, id, { type: "delivered" }, history);
    await expectListedComplete(wf, id);
  });
});

// ---------------------------------------------------------------- data-pipeline

describe("data-pipeline over HTTP", () => {
  it("transforms three partitions two at a time, retries the throttled write from the alarm, joins, publishes, and is listed as complete", async () => {
    const wf = "data-pipeline";
    const id = uniqueId("http-pipeline");
    await create(wf, id, ORDERS);

    let seen = await settle(wf, id, (s) => s.status.status === "waiting" && failuresOf(s.history, THROTTLED_KEY).length === 1, "the throttled write");
    expect(seen.status).toEqual({ id, status: "waiting", value: THROTTLED });
    const [failure] = failuresOf(seen.history, THROTTLED_KEY);
    expect(failure!.data).toMatchObject({ attempt: 1, error: { message: "sink returned 503 for partition 1 (simulated transient error)" } });
    expect(failure!.data.retryAt! - failure!.at).toBe(5 * SECOND);

    await advance(wf, id, 5 * SECOND);
    seen = await settle(wf, id, complete, "completion");
    expect(seen.status).toMatchObject({
      id,
      status: "complete",
      value: { ingest: "done", transform: "done", join: "done", publish: "done" },
      output: ORDERS_DONE,
    });
    const output = seen.status.output as Body;
    expect(Object.keys(output).sort()).toEqual(["manifest", "source", "summary"]);
    expect(Object.keys(output.summary).sort()).toEqual(["checksum", "duplicatesDropped", "objects", "partitions", "records"]);
    expect(Number.isInteger(output.summary.checksum)).toBe(true);

    const { history } = seen;
    await expectWellFormedLog(wf, id, history, output);
    expect(history[0]).toMatchObject({ data: { params: ORDERS } });
    expect(ofType(history, "step.attempt_failed").map((r) => `${r.data.key}@${r.data.attempt}`)).toEqual([`${THROTTLED_KEY}@1`]);
    expect(ofType(history, "step.succeeded").map((r) => `${r.data.key}@${r.data.attempt}`)).toEqual(ORDERS_SUCCEEDED);
    const outputOf = (key: string) => ofType(history, "step.succeeded").find((r) => r.data.key === key)!.data.output as Body;
    // The join's own output is the summary reported; the publication names the manifest, with the step's id to make it idempotent.
    expect(outputOf("join#1")).toEqual(output.summary);
    expect(outputOf("publish#1")).toEqual({ manifest: output.manifest, publishId: "publish#1", checksum: output.summary.checksum });
    // The transforms' outputs are what the summary adds up; each wrote under its step's id.
    const transforms = ofType(history, "step.succeeded")
      .filter((r) => r.data.key.startsWith("transform."))
      .map((r) => r.data.output as { partition: number; object: string; writeId: string; records: number; duplicatesDropped: number });
    expect(transforms.map((t) => [t.partition, t.object, t.writeId, t.records, t.duplicatesDropped]).sort()).toEqual([
      [0, "warehouse/orders/part-0.jsonl", "transform.slot0#1", 3, 1],
      [1, "warehouse/orders/part-1.jsonl", THROTTLED_KEY, 4, 1],
      [2, "warehouse/orders/part-2.jsonl", "transform.slot0#2", 5, 1],
    ]);
    // The join starts only after every partition is written, and publishing only after the join.
    const index = (type: string, key: string) => history.findLastIndex((r) => r.type === type && "key" in r.data && r.data.key === key);
    for (const key of ["transform.slot0#1", "transform.slot0#2", THROTTLED_KEY]) expect(index("step.started", "join#1")).toBeGreaterThan(index("step.succeeded", key));
    expect(index("step.started", "publish#1")).toBeGreaterThan(index("step.succeeded", "join#1"));

    await expectFinished(wf, id, { type: "anything" }, history);
    await expectListedComplete(wf, id);
  });
});

// ---------------------------------------------------------------- training-loop

/** Round 1's training is preempted once and retried a minute later from the alarm; round 2 runs on its own and goes to review. */
async function trainToFirstReview(id: string): Promise<Seen> {
  const wf = "training-loop";
  await create(wf, id, CATS);
  let seen = await settle(wf, id, (s) => s.status.status === "waiting" && failuresOf(s.history, "train#1").length === 1, "round 1's training to be preempted");
  expect(seen.status).toEqual({ id, status: "waiting", value: "training" });
  const [failure] = failuresOf(seen.history, "train#1");
  expect(failure!.data).toMatchObject({ attempt: 1, error: { message: expect.stringContaining("preempted") } });
  expect(failure!.data.retryAt! - failure!.at).toBe(MINUTE);
  await advance(wf, id, MINUTE);
  seen = await settle(wf, id, waitingIn("awaitingFeedback"), "the first review");
  expect(seen.status).toEqual({ id, status: "waiting", value: "awaitingFeedback" });
  const [window] = ofType(seen.history, "timer.started");
  expect(window!.data.id).toBe("xstate.after.feedbackWindow.training-loop.awaitingFeedback#1");
  expect(window!.data.dueAt - window!.at).toBe(DAY);
  return seen;
}

describe("training-loop over HTTP", () => {
  it("reviews, trains another round after a rejection, completes on approval, and is listed as complete", async () => {
    const wf = "training-loop";
    const id = uniqueId("http-train");
    let seen = await trainToFirstReview(id);
    expect(ofType(seen.history, "step.succeeded").map((r) => `${r.data.key}@${r.data.attempt}`)).toEqual(TWO_ROUNDS_WITH_ATTEMPTS);

    await sendEvent(wf, id, { type: "feedback", payload: { approve: false, note: "more epochs" } });
    seen = await settle(wf, id, (s) => waitingIn("awaitingFeedback")(s) && ofType(s.history, "timer.started").length === 2, "the second review");
    expect(seen.status).toEqual({ id, status: "waiting", value: "awaitingFeedback" });
    expect(ofType(seen.history, "timer.started").map((r) => r.data.id)).toEqual([
      "xstate.after.feedbackWindow.training-loop.awaitingFeedback#1",
      "xstate.after.feedbackWindow.training-loop.awaitingFeedback#2",
    ]);

    await sendEvent(wf, id, { type: "feedback", payload: { approve: true } });
    seen = await settle(wf, id, complete, "completion");
    expect(seen.status).toEqual({ id, status: "complete", value: "approved", output: APPROVED_IN_ROUND_3 });

    const { history } = seen;
    await expectWellFormedLog(wf, id, history, APPROVED_IN_ROUND_3);
    expect(history[0]).toMatchObject({ data: { params: CATS } });
    expect(ofType(history, "step.succeeded").map((r) => r.data.key)).toEqual(THREE_ROUNDS_OF_STEPS);
    expect(ofType(history, "step.attempt_failed").map((r) => `${r.data.key}@${r.data.attempt}`)).toEqual(["train#1@1"]);
    expect(ofType(history, "event.received").map((r) => r.data)).toEqual([
      { type: "feedback", payload: { approve: false, note: "more epochs" } },
      { type: "feedback", payload: { approve: true } },
    ]);
    expect(ofType(history, "timer.cancelled").map((r) => r.data.id)).toEqual([
      "xstate.after.feedbackWindow.training-loop.awaitingFeedback#1",
      "xstate.after.feedbackWindow.training-loop.awaitingFeedback#2",
    ]);
    expect(ofType(history, "timer.fired")).toHaveLength(0);

    await expectFinished(wf, id, { type: "feedback", payload: { approve: true } }, history);
    await expectListedComplete(wf, id);
  });

  it("times out from the alarm when nobody reviews within the 24-hour window, and is listed as complete", async () => {
    const wf = "training-loop";
    const id = uniqueId("http-train-timeout");
    await trainToFirstReview(id);

    // Rung before the window closes, the alarm finds nothing due: still waiting, no timer fired.
    await advance(wf, id, DAY - HOUR);
    let seen = await read(wf, id);
    expect(seen.status).toEqual({ id, status: "waiting", value: "awaitingFeedback" });
    expect(ofType(seen.history, "timer.fired")).toHaveLength(0);

    // Past the window.
    await advance(wf, id, HOUR + MINUTE);
    seen = await settle(wf, id, complete, "the timeout");
    const output: TrainingOutput = { dataset: "cats-vs-dogs", outcome: "timedOut", rounds: 2, checkpoint: "ckpt-r2", loss: 0.4, losses: [0.8, 0.4], reviews: [] };
    expect(seen.status).toEqual({ id, status: "complete", value: "timedOut", output });

    const { history } = seen;
    await expectWellFormedLog(wf, id, history, output);
    expect(ofType(history, "timer.fired").map((r) => r.data.id)).toEqual(["xstate.after.feedbackWindow.training-loop.awaitingFeedback#1"]);
    const [window] = ofType(history, "timer.started");
    expect(ofType(history, "timer.fired")[0]!.at).toBeGreaterThanOrEqual(window!.data.dueAt);
    expect(ofType(history, "event.received")).toHaveLength(0);
    expect(ofType(history, "timer.cancelled")).toHaveLength(0);

    await expectFinished(wf, id, { type: "feedback", payload: { approve: true } }, history);
    await expectListedComplete(wf, id);
  });
});
