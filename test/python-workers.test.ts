import { env, exports } from "cloudflare:workers";
import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { LogRecord } from "../index";
import { KEEPALIVE_MS } from "../adapters/durable-object/instance-object";
import { CLAIM_QUEUE_TABLE } from "../adapters/durable-object/claim-queue";
import type { WireAnswer, WireTask } from "../runtime/python-workers";
import { skipAhead } from "./skew-clock";
import { until } from "./until";
import { workflows } from "./worker";

/**
 * The Python worker protocol on the Durable Object host (docs/python-protocol.md), driven by hand as a worker would
 * drive it through `client.python(workflow)`: each instance's object answers its own claim, calls, heartbeat and
 * release, and the workflow's registry object queues the instances that want a worker.
 */
const client = () => workflows.client(env);
const objectOf = (workflow: string, id: string) => client().stub(workflow, id) as unknown as DurableObjectStub;
const registryOf = (workflow: string) => env.WORKFLOW_REGISTRY.get(env.WORKFLOW_REGISTRY.idFromName(workflow));
const queued = (workflow: string) =>
  runInDurableObject(registryOf(workflow), (_object, state) => state.storage.sql.exec<{ id: string }>(`SELECT id FROM ${CLAIM_QUEUE_TABLE} ORDER BY seq`).toArray().map((row) => row.id));
const answer = (answers: WireAnswer[]) => answers[0]!;
const started = (log: LogRecord[]) => log.filter((r) => r.type === "step.started").map((r) => (r.data as { key: string }).key);

/** A claim that must find an instance: it waits for the instance's report to reach the registry, not for a fixed time. */
async function claim(workflow: string): Promise<WireTask> {
  const task = await client().python(workflow).claim("test-worker", 10_000);
  expect(task, "an instance wants a worker").toBeDefined();
  return task!;
}

describe("Python workers on the Durable Object host", () => {
  it("a whole pass: claimed, a step run and its result recorded, run()'s end completes the instance; the lease is over after", async () => {
    const workers = client().python("py-pass");
    const instance = await client().workflow("py-pass").create({ id: "p1", params: { table: "t" } });
    const task = await claim("py-pass");
    expect(task).toMatchObject({ workflow: "py-pass", instanceId: "p1", leaseMs: 60_000, event: { payload: { json: { table: "t" } }, instanceId: "p1", workflowName: "py-pass" } });
    expect(await workers.claim("test-worker", 0), "one worker per pass").toBeUndefined();

    const step = await workers.calls("p1", task.lease, [{ type: "step", name: "rows", config: { retries: { limit: 0, delay: 0 } } }]);
    expect(answer(step.answers)).toMatchObject({ key: "do:rows-1", run: { attempt: 1, ctx: { step: { name: "rows", count: 1 }, attempt: 1 } } });
    const result = await workers.calls("p1", task.lease, [{ type: "result", key: "do:rows-1", attempt: 1, ok: true, value: { json: [1, 2] } }]);
    expect(answer(result.answers)).toEqual({ key: "do:rows-1", value: { json: [1, 2] } });
    expect(await workers.heartbeat("p1", task.lease, 0)).toEqual({ work: [], end: false, leaseMs: 60_000 });
    const end = await workers.calls("p1", task.lease, [{ type: "completed", output: { json: { count: 2 } } }]);
    expect(end).toMatchObject({ answers: [{ ok: true }], end: true });
    expect(await instance.status()).toMatchObject({ status: "complete", output: { count: 2 } });
    await expect(workers.heartbeat("p1", task.lease, 0)).rejects.toMatchObject({ code: "lease.lost", name: "LeaseLostError" });
    await expect(workers.release("p1", task.lease)).rejects.toMatchObject({ code: "lease.lost" });
  });

  it("a live pass takes a step's call with its first attempt's outcome in one request; evicted, the replay is not live until it has caught up, and no body runs again", async () => {
    const workers = client().python("py-pass");
    const instance = await client().workflow("py-pass").create({ id: "p-fused" });
    const task = await claim("py-pass");
    const first = await workers.calls("p-fused", task.lease, [{ type: "step", name: "rows" }]);
    expect(first.live).toMatchObject({ steps: expect.any(Number) });
    await workers.calls("p-fused", task.lease, [{ type: "result", key: "do:rows-1", attempt: 1, ok: true, value: { json: 1 } }]);
    const fused = await workers.calls("p-fused", task.lease, [{ type: "step", name: "rows", done: { count: 2, ok: true, value: { json: 2 } } }]);
    expect(fused.answers).toEqual([{ key: "do:rows-2", value: { json: 2 } }]);

    await evictDurableObject(objectOf("py-pass", "p-fused"));
    const again = await claim("py-pass");
    const replay = await workers.calls("p-fused", again.lease, [{ type: "step", name: "rows", done: { count: 1, ok: true, value: { json: "again" } } }]);
    expect(replay.answers, "answered from the log, the outcome dropped").toEqual([{ key: "do:rows-1", value: { json: 1 } }]);
    expect(replay.live, "do:rows-2 is still to be called").toBeUndefined();
    expect((await workers.calls("p-fused", again.lease, [{ type: "step", name: "rows" }])).live).toMatchObject({ steps: expect.any(Number) });
    await workers.calls("p-fused", again.lease, [{ type: "completed", output: { json: 2 } }]);
    expect(await instance.status()).toMatchObject({ status: "complete", output: 2 });
    expect(started(await instance.history())).toEqual(["do:rows-1", "do:rows-2"]);
  });

  it("refuses an unknown workflow and one Python does not serve before anything, and a lease on an instance that is not there", async () => {
    expect(() => client().python("nope")).toThrow(expect.objectContaining({ code: "workflow.not_found" }));
    expect(() => client().python("gated")).toThrow(expect.objectContaining({ code: "workflow.not_python" }));
    // An instance of another kind refuses the protocol in its object too.
    await client().workflow("instant").create({ id: "not-python" });
    expect(await client().stub("instant", "not-python").claim("instant", "not-python")).toMatchObject({ ok: false, error: { code: "workflow.not_python" } });
    await expect(client().python("py-pass").calls("never-made", "a-lease", [{ type: "completed" }])).rejects.toMatchObject({ code: "instance.not_found" });
  });

  it("a claim long-polls the registry and answers as soon as an instance is created", async () => {
    let claimed: WireTask | undefined | "waiting" = "waiting";
    const waiting = client()
      .python("py-long-poll")
      .claim("test-worker", 20_000)
      .then((task) => (claimed = task));
    // A round trip to the registry: the claim has reached it by then and waits in it, with nothing queued.
    expect(await queued("py-long-poll")).toEqual([]);
    expect(claimed).toBe("waiting");
    const before = Date.now();
    await client().workflow("py-long-poll").create({ id: "lp1" });
    await waiting;
    expect(claimed).toMatchObject({ instanceId: "lp1" });
    // Answered by the instance's report, not by the claim's deadline.
    expect(Date.now() - before).toBeLessThan(10_000);
  });

  it("a heartbeat waiting in the object hears of a retry the moment it comes due", async () => {
    const workers = client().python("py-retry");
    await client().workflow("py-retry").create({ id: "r1" });
    const task = await claim("py-retry");
    const config = { retries: { limit: 1, delay: "20 seconds", backoff: "constant" } };
    await workers.calls("r1", task.lease, [{ type: "step", name: "flaky", config }]);
    const failed = await workers.calls("r1", task.lease, [{ type: "result", key: "do:flaky-1", attempt: 1, ok: false, error: { name: "Error", message: "503" } }]);
    expect(answer(failed.answers)).toEqual({ key: "do:flaky-1", pending: true });

    // One stub: calls from it reach the object in order, so the heartbeat is waiting by the time status answers.
    const object = client().stub("py-retry", "r1");
    let beat: unknown;
    const beating = object.heartbeat("py-retry", "r1", task.lease, 20_000).then((outcome) => (beat = outcome));
    await object.status("py-retry", "r1");
    expect(beat, "the heartbeat waits").toBeUndefined();
    skipAhead(20_000);
    // The test rings the alarm, unless the object set it again after the clock moved (a late report), which rings it at once.
    await runDurableObjectAlarm(objectOf("py-retry", "r1"));
    await beating;
    expect(beat).toMatchObject({ ok: true, value: { end: false, work: [{ type: "run", key: "do:flaky-1", attempt: { attempt: 2 } }] } });
    const ok = await workers.calls("r1", task.lease, [{ type: "result", key: "do:flaky-1", attempt: 2, ok: true, value: { json: "fine" } }, { type: "completed" }]);
    expect(ok).toMatchObject({ answers: [{ key: "do:flaky-1", value: { json: "fine" } }, { ok: true }], end: true });
  });

  it("evicted mid-pass: the old lease is refused, the instance is claimed again (waking its evicted object), the replay is answered from the log, no step starts twice", async () => {
    const workers = client().python("py-evicted");
    const instance = await client().workflow("py-evicted").create({ id: "e1" });
    const first = await claim("py-evicted");
    await workers.calls("e1", first.lease, [{ type: "step", name: "rows" }]);
    await workers.calls("e1", first.lease, [{ type: "result", key: "do:rows-1", attempt: 1, ok: true, value: { json: "r" } }]);
    await evictDurableObject(objectOf("py-evicted", "e1"));

    // The old worker's next call wakes the object, which reloads from its log and wants a worker again.
    await expect(workers.calls("e1", first.lease, [{ type: "step", name: "stats" }])).rejects.toMatchObject({ code: "lease.lost" });
    await until(() => queued("py-evicted"), (ids) => ids.includes("e1"), "the reloaded instance to queue itself");
    // Evicted again before any claim: the claim that takes its id wakes it.
    await evictDurableObject(objectOf("py-evicted", "e1"));
    const second = await claim("py-evicted");
    expect(second.instanceId).toBe("e1");
    expect(second.lease).not.toBe(first.lease);

    const replay = await workers.calls("e1", second.lease, [{ type: "step", name: "rows" }, { type: "step", name: "stats" }]);
    expect(replay.answers).toEqual([{ key: "do:rows-1", value: { json: "r" } }, expect.objectContaining({ key: "do:stats-1", run: expect.objectContaining({ attempt: 1 }) })]);
    await workers.calls("e1", second.lease, [{ type: "result", key: "do:stats-1", attempt: 1, ok: true, value: { json: 3 } }, { type: "completed" }]);
    expect((await instance.status()).status).toBe("complete");
    expect(started(await instance.history())).toEqual(["do:rows-1", "do:stats-1"]);
    // What the woken object queued again is skipped: the instance no longer wants a worker.
    expect(await workers.claim("test-worker", 0)).toBeUndefined();
    expect(await queued("py-evicted")).toEqual([]);
  });

  it("aborted while a heartbeat waits in it: the heartbeat fails, the lease is fenced, the instance is claimed again and replayed from its log", async () => {
    const workers = client().python("py-aborted");
    const instance = await client().workflow("py-aborted").create({ id: "a1" });
    const first = await claim("py-aborted");
    await workers.calls("a1", first.lease, [{ type: "step", name: "rows" }]);
    await workers.calls("a1", first.lease, [{ type: "result", key: "do:rows-1", attempt: 1, ok: true, value: { json: "r" } }]);
    const object = client().stub("py-aborted", "a1");
    const beating = object.heartbeat("py-aborted", "a1", first.lease, 20_000).then(
      () => "answered",
      () => "failed",
    );
    await object.status("py-aborted", "a1");
    // A crash of the whole runtime: every object, the registry's too, loses its memory and what it was doing.
    await abortAllDurableObjects();
    expect(await beating).toBe("failed");
    await expect(workers.heartbeat("a1", first.lease, 0)).rejects.toMatchObject({ code: "lease.lost" });
    const second = await claim("py-aborted");
    const replay = await workers.calls("a1", second.lease, [{ type: "step", name: "rows" }, { type: "completed", output: { json: "r" } }]);
    expect(replay).toMatchObject({ answers: [{ key: "do:rows-1", value: { json: "r" } }, { ok: true }], end: true });
    expect(await instance.status()).toMatchObject({ status: "complete", output: "r" });
    expect(started(await instance.history())).toEqual(["do:rows-1"]);
  });

  it("the claim queue outlives its registry object: an instance queued before the registry was evicted is claimed after", async () => {
    await client().workflow("py-queue-kept").create({ id: "k1" });
    await until(() => queued("py-queue-kept"), (ids) => ids.includes("k1"), "the instance to queue itself");
    await evictDurableObject(registryOf("py-queue-kept"));
    expect((await client().python("py-queue-kept").claim("test-worker", 0))?.instanceId).toBe("k1");
  });

  it("an instance whose queue entry was lost is queued again by its keep-alive alarm", async () => {
    const workers = client().python("py-lost-entry");
    await client().workflow("py-lost-entry").create({ id: "l1" });
    await until(() => queued("py-lost-entry"), (ids) => ids.includes("l1"), "the instance to queue itself");
    await runInDurableObject(registryOf("py-lost-entry"), (_object, state) => state.storage.sql.exec(`DELETE FROM ${CLAIM_QUEUE_TABLE} WHERE id = ?`, "l1"));
    expect(await workers.claim("test-worker", 0), "lost").toBeUndefined();
    // Waiting for a worker keeps the alarm set; at its keep-alive ring the instance asks to be queued again.
    skipAhead(KEEPALIVE_MS);
    // Rung by the test, or at once by the runtime if the object set it again after the clock moved.
    await runDurableObjectAlarm(objectOf("py-lost-entry", "l1"));
    expect((await claim("py-lost-entry")).instanceId).toBe("l1");
  });

  it("renewing the lease leaves the object's alarm alone (moving it is a storage write); the check at the old expiry finds the lease renewed and looks again at the new one", async () => {
    const workers = client().python("py-pass");
    await client().workflow("py-pass").create({ id: "p-alarm" });
    const task = await claim("py-pass");
    const alarm = () => runInDurableObject(objectOf("py-pass", "p-alarm"), (_object, state) => state.storage.getAlarm());
    const first = await alarm();
    expect(first).not.toBeNull();
    for (let i = 0; i < 3; i++) {
      skipAhead(1_000);
      await workers.heartbeat("p-alarm", task.lease, 0);
      const { answers } = await workers.calls("p-alarm", task.lease, [{ type: "step", name: "rows" }]);
      const attempt = (answer(answers) as { run: { attempt: number } }).run.attempt;
      await workers.calls("p-alarm", task.lease, [{ type: "result", key: `do:rows-${i + 1}`, attempt, ok: true, value: { json: i } }]);
    }
    expect(await alarm(), "three renewals, no alarm write").toBe(first);
    // Past the lease's first expiry, inside its renewal: the check finds it held.
    skipAhead(58_000);
    await runDurableObjectAlarm(objectOf("py-pass", "p-alarm"));
    expect(await workers.heartbeat("p-alarm", task.lease, 0)).toMatchObject({ end: false });
    expect(await alarm(), "set again for the renewed lease").not.toBeNull();
  });

  it("two claims racing for one instance: exactly one gets it", async () => {
    const workers = client().python("py-race");
    await client().workflow("py-race").create({ id: "x1" });
    await until(() => queued("py-race"), (ids) => ids.includes("x1"), "the instance to queue itself");
    const tasks = await Promise.all([workers.claim("worker-a", 0), workers.claim("worker-b", 0)]);
    expect(tasks.filter((task) => task !== undefined).map((task) => task!.instanceId)).toEqual(["x1"]);

    // And at the object itself, as when an id was queued twice (a report sent again) and two claims take it.
    await client().workflow("py-race").create({ id: "x2" });
    const claims = await Promise.all([client().stub("py-race", "x2").claim("py-race", "x2"), client().stub("py-race", "x2").claim("py-race", "x2")]);
    expect(claims.filter((outcome) => outcome.ok && outcome.value !== null)).toHaveLength(1);
  });

  it("a deleted instance's queued id is skipped: the claim goes on to the next instance", async () => {
    const workflow = client().workflow("py-deleted");
    const gone = await workflow.create({ id: "d1" });
    await until(() => queued("py-deleted"), (ids) => ids.includes("d1"), "d1 to queue itself");
    await gone.delete();
    await workflow.create({ id: "d2" });
    await until(() => queued("py-deleted"), (ids) => ids.includes("d2"), "d2 to queue itself");
    expect(await queued("py-deleted")).toEqual(["d1", "d2"]);
    expect((await claim("py-deleted")).instanceId).toBe("d2");
    expect(await queued("py-deleted")).toEqual([]);
  });
});

describe("Python workers over HTTP, on the Durable Object host", () => {
  /** The Worker's default export, called in-process through its loopback binding. */
  const worker = (exports as unknown as { default: Fetcher }).default;
  const post = async (path: string, body: unknown, token = "test-worker-token") => {
    const response = await worker.fetch(`https://example.com/api/python/v1/workflows/py-http${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ protocol: 1, ...(body as object) }),
    });
    return { status: response.status, body: response.status === 204 ? null : await response.json<Record<string, any>>() };
  };

  it("a worker with its own token claims, runs and completes an instance; the API token opens nothing here, and a fenced lease answers 409", async () => {
    expect(await post("/claim", { worker: "w", waitMs: 0 }), "nothing wants a worker").toEqual({ status: 204, body: null });
    expect((await post("/claim", { worker: "w" }, "test-token")).status).toBe(401);
    const instance = await client().workflow("py-http").create({ id: "h1" });
    const claimed = await post("/claim", { worker: "w", waitMs: 10_000 });
    expect(claimed).toMatchObject({ status: 200, body: { protocol: 1, task: { instanceId: "h1", leaseMs: 60_000 } } });
    const { lease } = claimed.body!.task as WireTask;
    const step = await post("/instances/h1/calls", { lease, calls: [{ type: "step", name: "rows" }] });
    expect(step).toMatchObject({ status: 200, body: { answers: [{ key: "do:rows-1", run: { attempt: 1 } }], work: [], end: false } });
    expect(await post("/instances/h1/heartbeat", { lease, waitMs: 0 })).toMatchObject({ status: 200, body: { work: [], end: false, leaseMs: 60_000 } });
    const done = await post("/instances/h1/calls", { lease, calls: [{ type: "result", key: "do:rows-1", attempt: 1, ok: true, value: { json: 2 } }, { type: "completed", output: { json: 2 } }] });
    expect(done).toMatchObject({ status: 200, body: { answers: [{ key: "do:rows-1", value: { json: 2 } }, { ok: true }], end: true } });
    expect(await instance.status()).toMatchObject({ status: "complete", output: 2 });
    expect(await post("/instances/h1/release", { lease })).toMatchObject({ status: 409, body: { error: { code: "lease.lost" } } });
  });
});
