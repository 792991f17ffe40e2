import { describe, expect, it } from "vitest";
import { createMemoryHost, defineWorkflow } from "../../index";
import type { WireAnswer, WireTask } from "../../runtime/python-workers";
import { pythonWorld } from "./python-test-world";
import { FIRST_CONTACT_MS } from "../../runtime/remote-driver";

/**
 * The engine's side of the Python worker protocol (docs/python-protocol.md) on the memory host, driven here by hand as
 * a worker would drive it: claim, replay run() as calls, run what the answers say, let go when run() can only wait.
 */

const answer = (answers: WireAnswer[]) => answers[0]!;

describe("Python workers on the memory host", () => {
  it("a created instance is claimed; a step is told to run, its result recorded and answered; run()'s end completes it", async () => {
    const { workers, claim, client } = pythonWorld();
    const instance = await client.create({ id: "a1", params: { table: "t" } });
    const task = await claim();
    expect(task).toMatchObject({ workflow: "pipeline", instanceId: "a1", leaseMs: 10_000, event: { payload: { json: { table: "t" } }, instanceId: "a1", workflowName: "pipeline" } });
    expect(await workers.claim("test", 0), "one worker per pass").toBeUndefined();

    const step = await workers.calls("a1", task.lease, [{ type: "step", name: "rows", config: { retries: { limit: 0, delay: 0 } } }]);
    expect(answer(step.answers)).toEqual({
      key: "do:rows-1",
      run: { attempt: 1, timeoutMs: 600_000, ctx: { step: { name: "rows", count: 1 }, attempt: 1, config: { retries: { limit: 0, backoff: "exponential", delay: 0 }, timeout: "10 minutes" } } },
    });
    const result = await workers.calls("a1", task.lease, [{ type: "result", key: "do:rows-1", attempt: 1, ok: true, value: { json: [1, 2] } }]);
    expect(answer(result.answers)).toEqual({ key: "do:rows-1", value: { json: [1, 2] } });
    const end = await workers.calls("a1", task.lease, [{ type: "completed", output: { json: { count: 2 } } }]);
    expect(end).toMatchObject({ answers: [{ ok: true }], end: true });
    expect(await instance.status()).toMatchObject({ status: "complete", output: { count: 2 } });
    await expect(workers.heartbeat("a1", task.lease, 0)).rejects.toMatchObject({ code: "lease.lost" });
  });

  it("after a crash the instance is claimed again: the old lease is refused, the new replay is answered from the log, no body runs twice", async () => {
    const { host, workers, claim, client } = pythonWorld();
    const instance = await client.create({ id: "a2" });
    const first = await claim();
    await workers.calls("a2", first.lease, [{ type: "step", name: "rows" }]);
    await workers.calls("a2", first.lease, [{ type: "result", key: "do:rows-1", attempt: 1, ok: true, value: { json: "r" } }]);
    host.crash();
    const second = await claim();
    await expect(workers.calls("a2", first.lease, [{ type: "step", name: "x" }])).rejects.toMatchObject({ code: "lease.lost" });
    const replay = await workers.calls("a2", second.lease, [{ type: "step", name: "rows" }, { type: "step", name: "stats" }]);
    expect(replay.answers).toEqual([{ key: "do:rows-1", value: { json: "r" } }, expect.objectContaining({ key: "do:stats-1", run: expect.objectContaining({ attempt: 1 }) })]);
    await workers.calls("a2", second.lease, [{ type: "result", key: "do:stats-1", attempt: 1, ok: true, value: { json: 3 } }, { type: "completed" }]);
    expect((await instance.status()).status).toBe("complete");
    const started = (await instance.history()).filter((r) => r.type === "step.started").map((r) => (r.data as { key: string }).key);
    expect(started).toEqual(["do:rows-1", "do:stats-1"]);
  });

  it("a failed attempt is retried by the engine at its time, given to the worker as work", async () => {
    const { clock, workers, claim, client } = pythonWorld();
    await client.create({ id: "a3" });
    const task = await claim();
    await workers.calls("a3", task.lease, [{ type: "step", name: "flaky", config: { retries: { limit: 1, delay: 1000, backoff: "constant" } } }]);
    const failed = await workers.calls("a3", task.lease, [{ type: "result", key: "do:flaky-1", attempt: 1, ok: false, error: { name: "Error", message: "503" } }]);
    expect(answer(failed.answers)).toEqual({ key: "do:flaky-1", pending: true });
    expect((await workers.heartbeat("a3", task.lease, 0)).work).toEqual([]);
    clock.advance(1000);
    const beat = await workers.heartbeat("a3", task.lease, 0);
    expect(beat.work).toEqual([{ type: "run", key: "do:flaky-1", attempt: expect.objectContaining({ attempt: 2 }) }]);
    const ok = await workers.calls("a3", task.lease, [{ type: "result", key: "do:flaky-1", attempt: 2, ok: true, value: { json: "fine" } }]);
    expect(answer(ok.answers)).toEqual({ key: "do:flaky-1", value: { json: "fine" } });
  });

  it("a worker lets a sleeping pass go; the timer queues the instance again, and the new replay finds the sleep over", async () => {
    const { clock, workers, claim, client } = pythonWorld();
    const instance = await client.create({ id: "a4" });
    const task = await claim();
    expect(answer((await workers.calls("a4", task.lease, [{ type: "sleep", name: "nap", ms: 5000 }])).answers)).toEqual({ key: "sleep:nap-1", pending: true });
    await workers.release("a4", task.lease);
    expect(await workers.claim("test", 0), "nothing new yet").toBeUndefined();
    clock.advance(5000);
    const again = await claim();
    expect(answer((await workers.calls("a4", again.lease, [{ type: "sleep", name: "nap", ms: 5000 }])).answers)).toEqual({ key: "sleep:nap-1", value: null });
    await workers.calls("a4", again.lease, [{ type: "completed" }]);
    expect((await instance.status()).status).toBe("complete");
  });

  it("an attempt past its timeout fails in the engine; the worker's late result is answered with that failure", async () => {
    const { clock, workers, claim, client } = pythonWorld();
    await client.create({ id: "a5" });
    const task = await claim();
    await workers.calls("a5", task.lease, [{ type: "step", name: "slow", config: { retries: { limit: 0, delay: 0 }, timeout: 2000 } }]);
    clock.advance(2000);
    const late = await workers.calls("a5", task.lease, [{ type: "result", key: "do:slow-1", attempt: 1, ok: true, value: { json: 1 } }]);
    expect(answer(late.answers)).toEqual({ key: "do:slow-1", error: expect.objectContaining({ name: "WorkflowTimeoutError", message: "Execution timed out after 2000ms" }) });
  });

  it("a worker that goes quiet past its lease loses the pass to another", async () => {
    const { clock, workers, claim, client } = pythonWorld();
    await client.create({ id: "a6" });
    const first = await claim();
    await workers.calls("a6", first.lease, [{ type: "step", name: "rows" }]);
    clock.advance(10_000);
    const second = await claim();
    await expect(workers.heartbeat("a6", first.lease, 0)).rejects.toMatchObject({ code: "lease.lost" });
    expect(answer((await workers.calls("a6", second.lease, [{ type: "step", name: "rows" }])).answers)).toMatchObject({ key: "do:rows-1", run: { attempt: 2 } });
  });

  it("a pause ends the pass; a resume queues the instance again", async () => {
    const { workers, claim, client } = pythonWorld();
    const instance = await client.create({ id: "a7" });
    const task = await claim();
    await instance.pause();
    await expect(workers.heartbeat("a7", task.lease, 0)).rejects.toMatchObject({ code: "lease.lost" });
    expect(await workers.claim("test", 0)).toBeUndefined();
    await instance.resume();
    expect((await claim()).instanceId).toBe("a7");
  });

  it("values cross with their datetimes; other metadata from a worker is refused", async () => {
    const { workers, claim, client } = pythonWorld();
    await client.create({ id: "a8" });
    const task = await claim();
    await workers.calls("a8", task.lease, [{ type: "step", name: "when" }]);
    const dated = { json: { at: "2026-12-07T10:00:00.000Z" }, meta: { values: { at: ["Date"] } } };
    // Stored and answered as superjson writes it, with its format version.
    expect(answer((await workers.calls("a8", task.lease, [{ type: "result", key: "do:when-1", attempt: 1, ok: true, value: dated }])).answers)).toEqual({ key: "do:when-1", value: { ...dated, meta: { ...dated.meta, v: 1 } } });
    await workers.calls("a8", task.lease, [{ type: "step", name: "map" }]);
    const refused = await workers.calls("a8", task.lease, [{ type: "result", key: "do:map-1", attempt: 1, ok: true, value: { json: [], meta: { values: ["map"] } } }]);
    expect(answer(refused.answers)).toMatchObject({ refused: { name: "WorkflowFatalError", message: expect.stringContaining("datetimes") } });
  });

  it("a worker that lets its pass go before hearing of a retry that became due: the next pass runs that retry", async () => {
    const { clock, workers, claim, client } = pythonWorld();
    const instance = await client.create({ id: "a9" });
    const task = await claim();
    await workers.calls("a9", task.lease, [{ type: "step", name: "flaky", config: { retries: { limit: 1, delay: 1000, backoff: "constant" } } }]);
    await workers.calls("a9", task.lease, [{ type: "result", key: "do:flaky-1", attempt: 1, ok: false, error: { name: "Error", message: "503" } }]);
    clock.advance(1000);
    // Attempt 2 was started and waits in the work the worker never asked for.
    await workers.release("a9", task.lease);
    const again = await claim();
    expect(answer((await workers.calls("a9", again.lease, [{ type: "step", name: "flaky", config: { retries: { limit: 1, delay: 1000, backoff: "constant" } } }])).answers)).toMatchObject({
      key: "do:flaky-1",
      run: { attempt: 3 },
    });
    await workers.calls("a9", again.lease, [{ type: "result", key: "do:flaky-1", attempt: 3, ok: true, value: { json: 1 } }, { type: "completed" }]);
    expect((await instance.status()).status).toBe("complete");
  });

  it("a claim waits for an instance to want a worker, and answers as soon as one does; with none it answers empty at its deadline", async () => {
    const { clock, workers, client } = pythonWorld();
    let claimed: WireTask | undefined | "waiting" = "waiting";
    const waiting = workers.claim("test", 20_000).then((task) => (claimed = task));
    await Promise.resolve();
    expect(claimed, "nothing wants a worker yet").toBe("waiting");
    await client.create({ id: "b1" });
    await waiting;
    expect(claimed).toMatchObject({ instanceId: "b1" });
    await workers.calls("b1", (claimed as unknown as WireTask).lease, [{ type: "sleep", name: "nap", ms: 60_000 }]);
    await workers.release("b1", (claimed as unknown as WireTask).lease);

    let empty: WireTask | undefined | "waiting" = "waiting";
    const idle = workers.claim("test", 20_000).then((task) => (empty = task));
    clock.advance(19_999);
    await Promise.resolve();
    expect(empty).toBe("waiting");
    clock.advance(1);
    await idle;
    expect(empty).toBeUndefined();
  });

  it("a heartbeat waits for work: a retry coming due answers it at that moment, not at the end of its wait", async () => {
    const { clock, workers, claim, client } = pythonWorld();
    await client.create({ id: "b2" });
    const task = await claim();
    await workers.calls("b2", task.lease, [{ type: "step", name: "flaky", config: { retries: { limit: 1, delay: 1000, backoff: "constant" } } }]);
    await workers.calls("b2", task.lease, [{ type: "result", key: "do:flaky-1", attempt: 1, ok: false, error: { name: "Error", message: "503" } }]);
    let beat: Awaited<ReturnType<typeof workers.heartbeat>> | undefined;
    const beating = workers.heartbeat("b2", task.lease, 5_000).then((answer) => (beat = answer));
    clock.advance(999);
    await Promise.resolve();
    expect(beat).toBeUndefined();
    clock.advance(1);
    await beating;
    expect(beat).toMatchObject({ end: false, work: [{ type: "run", key: "do:flaky-1", attempt: { attempt: 2 } }] });
  });

  it("a waiting heartbeat hears of its pass's end: a pause answers it with end, and its lease is refused after", async () => {
    const { workers, claim, client } = pythonWorld();
    const instance = await client.create({ id: "b3" });
    const task = await claim();
    await workers.calls("b3", task.lease, [{ type: "sleep", name: "nap", ms: 60_000 }]);
    const beating = workers.heartbeat("b3", task.lease, 5_000);
    await instance.pause();
    expect(await beating).toMatchObject({ end: true, work: [] });
    await expect(workers.calls("b3", task.lease, [{ type: "step", name: "x" }])).rejects.toMatchObject({ code: "lease.lost" });
  });

  it("run() failing starts the saga in the same worker's pass: its lease goes on, and the rollback work comes with the answer", async () => {
    const { workers, claim, client } = pythonWorld();
    const instance = await client.create({ id: "c0" });
    const task = await claim();
    await workers.calls("c0", task.lease, [{ type: "step", name: "order", rollback: {} }]);
    await workers.calls("c0", task.lease, [{ type: "result", key: "do:order-1", attempt: 1, ok: true, value: { json: "o-1" } }]);
    const failed = await workers.calls("c0", task.lease, [{ type: "failed", error: { name: "Error", message: "out of stock" } }]);
    expect(failed).toMatchObject({ end: false, work: [{ type: "rollback", key: "do:order-1", error: { message: "out of stock" }, output: { json: "o-1" } }] });
    const rollback = failed.work[0] as Extract<(typeof failed.work)[number], { type: "rollback" }>;
    const done = await workers.calls("c0", task.lease, [{ type: "rollbackResult", key: "do:order-1", attempt: rollback.attempt }]);
    expect(done.end).toBe(true);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { message: "out of stock" } });
  });

  it("a saga under way when the engine went down resumes once the replay lets its pass go: the worker runs the handler under the same lease", async () => {
    const { host, workers, claim, client } = pythonWorld();
    const instance = await client.create({ id: "c1" });
    const first = await claim();
    await workers.calls("c1", first.lease, [{ type: "step", name: "order", rollback: {} }]);
    await workers.calls("c1", first.lease, [{ type: "result", key: "do:order-1", attempt: 1, ok: true, value: { json: "o-1" } }]);
    await workers.calls("c1", first.lease, [{ type: "wait", name: "approval", eventType: "approved" }]);
    await instance.terminate({ rollback: true });
    // Down before the handler's result is recorded: the log has the saga under way, nothing in memory does.
    host.crash();
    const second = await claim();
    const replay = await workers.calls("c1", second.lease, [{ type: "step", name: "order", rollback: {} }, { type: "wait", name: "approval", eventType: "approved" }]);
    expect(replay.answers).toEqual([{ key: "do:order-1", value: { json: "o-1" } }, { key: "waitForEvent:approval-1", pending: true }]);
    const released = await workers.release("c1", second.lease);
    expect(released).toMatchObject({ end: false, work: [{ type: "rollback", key: "do:order-1", output: { json: "o-1" } }] });
    const rollback = released.work[0] as Extract<(typeof released.work)[number], { type: "rollback" }>;
    const done = await workers.calls("c1", second.lease, [{ type: "rollbackResult", key: "do:order-1", attempt: rollback.attempt }]);
    expect(done.end).toBe(true);
    expect((await instance.status()).status).toBe("terminated");
    const types = (await instance.history()).map((record) => record.type);
    expect(types.filter((type) => type === "rollback.step.succeeded")).toHaveLength(1);
  });

  it("an event that answers a pending wait while the worker still holds the pass: its release replays run() at once, and the replay gets the event", async () => {
    const { workers, claim, client } = pythonWorld();
    const instance = await client.create({ id: "d1" });
    const task = await claim();
    expect(answer((await workers.calls("d1", task.lease, [{ type: "wait", name: "review", eventType: "feedback" }])).answers)).toMatchObject({ pending: true });
    await instance.sendEvent({ type: "feedback", payload: { ok: true } });
    expect(await workers.release("d1", task.lease)).toEqual({ work: [], end: true });
    const replay = await claim();
    expect(answer((await workers.calls("d1", replay.lease, [{ type: "wait", name: "review", eventType: "feedback" }])).answers)).toMatchObject({ value: { json: { type: "feedback", payload: { ok: true } } } });
  });

  it("a retry's result the worker sent is no reason for another pass: a release after it ends the pass", async () => {
    const { clock, workers, claim, client } = pythonWorld();
    await client.create({ id: "d2" });
    const task = await claim();
    await workers.calls("d2", task.lease, [{ type: "step", name: "flaky", config: { retries: { limit: 1, delay: 1000, backoff: "constant" } } }]);
    await workers.calls("d2", task.lease, [{ type: "result", key: "do:flaky-1", attempt: 1, ok: false, error: { name: "Error", message: "503" } }]);
    clock.advance(1000);
    const { work } = await workers.heartbeat("d2", task.lease, 0);
    expect(work).toHaveLength(1);
    await workers.calls("d2", task.lease, [{ type: "result", key: "do:flaky-1", attempt: 2, ok: true, value: { json: "fine" } }, { type: "sleep", name: "nap", ms: 60_000 }]);
    await workers.release("d2", task.lease);
    expect(await workers.claim("test", 0), "nothing new for run()").toBeUndefined();
  });

  it("a claimed task whose worker never sends a request (it hung up on the claim, or died) is claimed again after the first-contact window, not a whole lease later", async () => {
    const { clock, workers, claim, client } = pythonWorld();
    await client.create({ id: "e1" });
    const lost = await claim();
    clock.advance(FIRST_CONTACT_MS - 1);
    expect(await workers.claim("test", 0)).toBeUndefined();
    clock.advance(1);
    const again = await claim();
    expect(again.instanceId).toBe("e1");
    await expect(workers.heartbeat("e1", lost.lease, 0)).rejects.toMatchObject({ code: "lease.lost" });
    // A worker that spoke holds the whole lease (10 s here).
    await workers.heartbeat("e1", again.lease, 0);
    clock.advance(9_999);
    expect((await workers.heartbeat("e1", again.lease, 0)).end).toBe(false);
  });

  it("a restart fences the lease and queues a new run: its replay runs every step again, and a restart from a step keeps the steps before it", async () => {
    const { workers, claim, client } = pythonWorld();
    const instance = await client.create({ id: "f1" });
    const run = async (expected: { rows: "run" | "value"; stats: "run" | "value" }) => {
      const task = await claim();
      const rows = answer((await workers.calls("f1", task.lease, [{ type: "step", name: "rows" }])).answers);
      expect(rows, "rows").toHaveProperty(expected.rows);
      if ("run" in rows) await workers.calls("f1", task.lease, [{ type: "result", key: "do:rows-1", attempt: rows.run.attempt, ok: true, value: { json: "r" } }]);
      const stats = answer((await workers.calls("f1", task.lease, [{ type: "step", name: "stats" }])).answers);
      expect(stats, "stats").toHaveProperty(expected.stats);
      if ("run" in stats) await workers.calls("f1", task.lease, [{ type: "result", key: "do:stats-1", attempt: stats.run.attempt, ok: true, value: { json: 2 } }]);
      await workers.calls("f1", task.lease, [{ type: "completed", output: { json: "done" } }]);
      return task;
    };
    const first = await run({ rows: "run", stats: "run" });
    expect((await instance.status()).status).toBe("complete");
    await instance.restart();
    await expect(workers.heartbeat("f1", first.lease, 0)).rejects.toMatchObject({ code: "lease.lost" });
    await run({ rows: "run", stats: "run" });
    await instance.restart({ from: "do:stats-1" });
    await run({ rows: "value", stats: "run" });
    expect(await instance.status()).toMatchObject({ status: "complete", output: "done" });
    const started = (await instance.history()).filter((r) => r.type === "step.started").map((r) => (r.data as { key: string }).key);
    expect(started).toEqual(["do:rows-1", "do:stats-1", "do:rows-1", "do:stats-1", "do:stats-1"]);
  });

  it("python() refuses a workflow Python does not serve", () => {
    const host = createMemoryHost({ workflows: [defineWorkflow({ name: "pipeline", python: {} })] });
    expect(() => host.python("nope")).toThrow(expect.objectContaining({ code: "workflow.not_found" }));
  });
});
