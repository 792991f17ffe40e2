import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, defineWorkflow } from "../../index";
import type { WireAnswer, WireTask } from "../../runtime/remote-driver";

/**
 * The engine's side of the Python worker protocol (docs/python-protocol.md) on the memory host, driven here by hand as
 * a worker would drive it: claim, replay run() as calls, run what the answers say, let go when run() can only wait.
 */
function world() {
  const clock = createManualClock(1_000_000);
  const pipeline = defineWorkflow({ name: "pipeline", python: { leaseMs: 10_000 } });
  const host = createMemoryHost({ workflows: [pipeline], clock });
  const workers = host.python("pipeline");
  const claim = (): WireTask => {
    const task = workers.claim();
    expect(task, "an instance wants a worker").toBeDefined();
    return task!;
  };
  return { clock, host, workers, claim, client: host.workflow("pipeline") };
}

const answer = (answers: WireAnswer[]) => answers[0]!;

describe("Python workers on the memory host", () => {
  it("a created instance is claimed; a step is told to run, its result recorded and answered; run()'s end completes it", async () => {
    const { workers, claim, client } = world();
    const instance = await client.create({ id: "a1", params: { table: "t" } });
    const task = claim();
    expect(task).toMatchObject({ workflow: "pipeline", instanceId: "a1", leaseMs: 10_000, event: { payload: { json: { table: "t" } }, instanceId: "a1", workflowName: "pipeline" } });
    expect(workers.claim(), "one worker per pass").toBeUndefined();

    const step = workers.calls("a1", task.lease, [{ type: "step", name: "rows", config: { retries: { limit: 0, delay: 0 } } }]);
    expect(answer(step.answers)).toEqual({
      key: "do:rows-1",
      run: { attempt: 1, timeoutMs: 600_000, ctx: { step: { name: "rows", count: 1 }, attempt: 1, config: { retries: { limit: 0, backoff: "exponential", delay: 0 }, timeout: "10 minutes" } } },
    });
    const result = workers.calls("a1", task.lease, [{ type: "result", key: "do:rows-1", attempt: 1, ok: true, value: { json: [1, 2] } }]);
    expect(answer(result.answers)).toEqual({ key: "do:rows-1", value: { json: [1, 2] } });
    const end = workers.calls("a1", task.lease, [{ type: "completed", output: { json: { count: 2 } } }]);
    expect(end).toMatchObject({ answers: [{ ok: true }], end: true });
    expect(await instance.status()).toMatchObject({ status: "complete", output: { count: 2 } });
    expect(() => workers.heartbeat("a1", task.lease)).toThrow(expect.objectContaining({ code: "lease.lost" }));
  });

  it("after a crash the instance is claimed again: the old lease is refused, the new replay is answered from the log, no body runs twice", async () => {
    const { host, workers, claim, client } = world();
    const instance = await client.create({ id: "a2" });
    const first = claim();
    workers.calls("a2", first.lease, [{ type: "step", name: "rows" }]);
    workers.calls("a2", first.lease, [{ type: "result", key: "do:rows-1", attempt: 1, ok: true, value: { json: "r" } }]);
    host.crash();
    const second = claim();
    expect(() => workers.calls("a2", first.lease, [{ type: "step", name: "x" }])).toThrow(expect.objectContaining({ code: "lease.lost" }));
    const replay = workers.calls("a2", second.lease, [{ type: "step", name: "rows" }, { type: "step", name: "stats" }]);
    expect(replay.answers).toEqual([{ key: "do:rows-1", value: { json: "r" } }, expect.objectContaining({ key: "do:stats-1", run: expect.objectContaining({ attempt: 1 }) })]);
    workers.calls("a2", second.lease, [{ type: "result", key: "do:stats-1", attempt: 1, ok: true, value: { json: 3 } }, { type: "completed" }]);
    expect((await instance.status()).status).toBe("complete");
    const started = (await instance.history()).filter((r) => r.type === "step.started").map((r) => (r.data as { key: string }).key);
    expect(started).toEqual(["do:rows-1", "do:stats-1"]);
  });

  it("a failed attempt is retried by the engine at its time, given to the worker as work", async () => {
    const { clock, workers, claim, client } = world();
    await client.create({ id: "a3" });
    const task = claim();
    workers.calls("a3", task.lease, [{ type: "step", name: "flaky", config: { retries: { limit: 1, delay: 1000, backoff: "constant" } } }]);
    const failed = workers.calls("a3", task.lease, [{ type: "result", key: "do:flaky-1", attempt: 1, ok: false, error: { name: "Error", message: "503" } }]);
    expect(answer(failed.answers)).toEqual({ key: "do:flaky-1", pending: true });
    expect(workers.heartbeat("a3", task.lease).work).toEqual([]);
    clock.advance(1000);
    const beat = workers.heartbeat("a3", task.lease);
    expect(beat.work).toEqual([{ type: "run", key: "do:flaky-1", attempt: expect.objectContaining({ attempt: 2 }) }]);
    const ok = workers.calls("a3", task.lease, [{ type: "result", key: "do:flaky-1", attempt: 2, ok: true, value: { json: "fine" } }]);
    expect(answer(ok.answers)).toEqual({ key: "do:flaky-1", value: { json: "fine" } });
  });

  it("a worker lets a sleeping pass go; the timer queues the instance again, and the new replay finds the sleep over", async () => {
    const { clock, workers, claim, client } = world();
    const instance = await client.create({ id: "a4" });
    const task = claim();
    expect(answer(workers.calls("a4", task.lease, [{ type: "sleep", name: "nap", ms: 5000 }]).answers)).toEqual({ key: "sleep:nap-1", pending: true });
    workers.release("a4", task.lease);
    expect(workers.claim(), "nothing new yet").toBeUndefined();
    clock.advance(5000);
    const again = claim();
    expect(answer(workers.calls("a4", again.lease, [{ type: "sleep", name: "nap", ms: 5000 }]).answers)).toEqual({ key: "sleep:nap-1", value: null });
    workers.calls("a4", again.lease, [{ type: "completed" }]);
    expect((await instance.status()).status).toBe("complete");
  });

  it("an attempt past its timeout fails in the engine; the worker's late result is answered with that failure", async () => {
    const { clock, workers, claim, client } = world();
    await client.create({ id: "a5" });
    const task = claim();
    workers.calls("a5", task.lease, [{ type: "step", name: "slow", config: { retries: { limit: 0, delay: 0 }, timeout: 2000 } }]);
    clock.advance(2000);
    const late = workers.calls("a5", task.lease, [{ type: "result", key: "do:slow-1", attempt: 1, ok: true, value: { json: 1 } }]);
    expect(answer(late.answers)).toEqual({ key: "do:slow-1", error: expect.objectContaining({ name: "WorkflowTimeoutError", message: "Execution timed out after 2000ms" }) });
  });

  it("a worker that goes quiet past its lease loses the pass to another", async () => {
    const { clock, workers, claim, client } = world();
    await client.create({ id: "a6" });
    const first = claim();
    workers.calls("a6", first.lease, [{ type: "step", name: "rows" }]);
    clock.advance(10_000);
    const second = claim();
    expect(() => workers.heartbeat("a6", first.lease)).toThrow(expect.objectContaining({ code: "lease.lost" }));
    expect(answer(workers.calls("a6", second.lease, [{ type: "step", name: "rows" }]).answers)).toMatchObject({ key: "do:rows-1", run: { attempt: 2 } });
  });

  it("a pause ends the pass; a resume queues the instance again", async () => {
    const { workers, claim, client } = world();
    const instance = await client.create({ id: "a7" });
    const task = claim();
    await instance.pause();
    expect(() => workers.heartbeat("a7", task.lease)).toThrow(expect.objectContaining({ code: "lease.lost" }));
    expect(workers.claim()).toBeUndefined();
    await instance.resume();
    expect(claim().instanceId).toBe("a7");
  });

  it("values cross with their datetimes; other metadata from a worker is refused", async () => {
    const { workers, claim, client } = world();
    await client.create({ id: "a8" });
    const task = claim();
    workers.calls("a8", task.lease, [{ type: "step", name: "when" }]);
    const dated = { json: { at: "2026-12-07T10:00:00.000Z" }, meta: { values: { at: ["Date"] } } };
    // Stored and answered as superjson writes it, with its format version.
    expect(answer(workers.calls("a8", task.lease, [{ type: "result", key: "do:when-1", attempt: 1, ok: true, value: dated }]).answers)).toEqual({ key: "do:when-1", value: { ...dated, meta: { ...dated.meta, v: 1 } } });
    workers.calls("a8", task.lease, [{ type: "step", name: "map" }]);
    const refused = workers.calls("a8", task.lease, [{ type: "result", key: "do:map-1", attempt: 1, ok: true, value: { json: [], meta: { values: ["map"] } } }]);
    expect(answer(refused.answers)).toMatchObject({ refused: { name: "WorkflowFatalError", message: expect.stringContaining("datetimes") } });
  });

  it("a worker that lets its pass go before hearing of a retry that became due: the next pass runs that retry", async () => {
    const { clock, workers, claim, client } = world();
    const instance = await client.create({ id: "a9" });
    const task = claim();
    workers.calls("a9", task.lease, [{ type: "step", name: "flaky", config: { retries: { limit: 1, delay: 1000, backoff: "constant" } } }]);
    workers.calls("a9", task.lease, [{ type: "result", key: "do:flaky-1", attempt: 1, ok: false, error: { name: "Error", message: "503" } }]);
    clock.advance(1000);
    // Attempt 2 was started and waits in the work the worker never asked for.
    workers.release("a9", task.lease);
    const again = claim();
    expect(answer(workers.calls("a9", again.lease, [{ type: "step", name: "flaky", config: { retries: { limit: 1, delay: 1000, backoff: "constant" } } }]).answers)).toMatchObject({
      key: "do:flaky-1",
      run: { attempt: 3 },
    });
    workers.calls("a9", again.lease, [{ type: "result", key: "do:flaky-1", attempt: 3, ok: true, value: { json: 1 } }, { type: "completed" }]);
    expect((await instance.status()).status).toBe("complete");
  });

  it("python() refuses a workflow Python does not serve", () => {
    const host = createMemoryHost({ workflows: [defineWorkflow({ name: "pipeline", python: {} })] });
    expect(() => host.python("nope")).toThrow(expect.objectContaining({ code: "workflow.not_found" }));
  });
});
