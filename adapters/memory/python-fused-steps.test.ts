import { describe, expect, it } from "vitest";
import type { WireCall } from "../../runtime/python-workers";
import { pythonWorld } from "./python-test-world";

/**
 * Live passes and fused first attempts (docs/python-protocol.md, "One request per step"): once a pass has caught up
 * with the log, the engine says so (`live`), and a worker may send a step's call with its first attempt's outcome
 * (`done`), taken in the same commit. Driven by hand on the memory host, as a worker would drive it.
 */

const step = (name: string, done?: Extract<WireCall, { type: "step" }>["done"]): WireCall => ({ type: "step", name, ...(done ? { done } : {}) });
/** A log as a reader compares it: what each record says, not when. */
const records = (history: { type: string; data: unknown }[]) => history.map(({ type, data }) => ({ type, data }));

describe("live passes and fused first attempts", () => {
  it("a fresh pass is live from its first answer; a fused step is recorded as the two-request path records it, and answered with its value", async () => {
    const { workers, claim, client } = pythonWorld();
    const fused = await client.create({ id: "f1" });
    const task = await claim();
    const first = await workers.calls("f1", task.lease, [step("rows")]);
    expect(first.live).toEqual({ steps: 10_000 - 1 });
    await workers.calls("f1", task.lease, [{ type: "result", key: "do:rows-1", attempt: 1, ok: true, value: { json: 1 } }]);
    const one = await workers.calls("f1", task.lease, [step("rows", { count: 2, ok: true, value: { json: 2 } })]);
    expect(one.answers).toEqual([{ key: "do:rows-2", value: { json: 2 } }]);
    expect(one.work, "the attempt is not handed out as work").toEqual([]);
    expect(one.live).toEqual({ steps: 10_000 - 2 });
    await workers.calls("f1", task.lease, [{ type: "completed" }]);

    const plain = await client.create({ id: "f2" });
    const other = await claim();
    await workers.calls("f2", other.lease, [step("rows")]);
    await workers.calls("f2", other.lease, [{ type: "result", key: "do:rows-1", attempt: 1, ok: true, value: { json: 1 } }]);
    await workers.calls("f2", other.lease, [step("rows")]);
    await workers.calls("f2", other.lease, [{ type: "result", key: "do:rows-2", attempt: 1, ok: true, value: { json: 2 } }]);
    await workers.calls("f2", other.lease, [{ type: "completed" }]);

    const tail = (history: { type: string; data: unknown }[]) => records(history).slice(1);
    expect(tail(await fused.history())).toEqual(tail(await plain.history()));
    expect(await fused.status()).toMatchObject({ status: "complete" });
  });

  it("a replay is not live until it has called every step, sleep and wait the log holds; an outcome sent meanwhile is dropped and the log answers", async () => {
    const { host, clock, workers, claim, client } = pythonWorld();
    await client.create({ id: "f3" });
    const task = await claim();
    await workers.calls("f3", task.lease, [step("rows")]);
    await workers.calls("f3", task.lease, [{ type: "result", key: "do:rows-1", attempt: 1, ok: true, value: { json: "logged" } }]);
    await workers.calls("f3", task.lease, [{ type: "sleep", name: "nap", ms: 1000 }]);
    await workers.calls("f3", task.lease, [{ type: "wait", name: "approval", eventType: "approved" }]);
    clock.advance(1000);
    host.crash();

    const again = await claim();
    const replayed = await workers.calls("f3", again.lease, [step("rows", { count: 1, ok: true, value: { json: "ran again" } })]);
    expect(replayed.answers).toEqual([{ key: "do:rows-1", value: { json: "logged" } }]);
    expect(replayed.live, "a sleep and a wait are still to be called").toBeUndefined();
    expect((await workers.calls("f3", again.lease, [{ type: "sleep", name: "nap", ms: 1000 }])).live).toBeUndefined();
    const caughtUp = await workers.calls("f3", again.lease, [{ type: "wait", name: "approval", eventType: "approved" }]);
    expect(caughtUp.live).toEqual({ steps: 10_000 - 1 });
  });

  it("an outcome numbered differently from the engine's count is not taken: the call is answered as a plain one", async () => {
    const { workers, claim, client } = pythonWorld();
    const instance = await client.create({ id: "f4" });
    const task = await claim();
    await workers.calls("f4", task.lease, [step("rows")]);
    const misnumbered = await workers.calls("f4", task.lease, [step("other", { count: 2, ok: true, value: { json: 1 } })]);
    expect(misnumbered.answers).toEqual([{ key: "do:other-1", run: expect.objectContaining({ attempt: 1 }) }]);
    expect((await instance.history()).some((r) => r.type === "step.succeeded"), "nothing recorded as a result").toBe(false);
  });

  it("a fused failure is the first attempt's: the step retries at its time, handed out as work", async () => {
    const { clock, workers, claim, client } = pythonWorld();
    await client.create({ id: "f5" });
    const task = await claim();
    const config = { retries: { limit: 1, delay: 1000, backoff: "constant" } };
    await workers.calls("f5", task.lease, [{ type: "step", name: "warm-up" }]);
    const failed = await workers.calls("f5", task.lease, [{ type: "step", name: "flaky", config, done: { count: 1, ok: false, error: { name: "Error", message: "503" } } }]);
    expect(failed.answers).toEqual([{ key: "do:flaky-1", pending: true }]);
    clock.advance(1000);
    expect((await workers.heartbeat("f5", task.lease, 0)).work).toEqual([{ type: "run", key: "do:flaky-1", attempt: expect.objectContaining({ attempt: 2 }) }]);
  });

  it("a fused outcome that cannot be kept ends the instance, as the same result sent alone does", async () => {
    const { workers, claim, client } = pythonWorld();
    const instance = await client.create({ id: "f6" });
    const task = await claim();
    await workers.calls("f6", task.lease, [step("rows")]);
    const fatal = { attempt: "not serialisable", instance: 'The execution of the Workflow instance was terminated, as the step "bad" returned a value which is not serialisable' };
    const answered = await workers.calls("f6", task.lease, [step("bad", { count: 1, ok: false, error: { name: "NotSerializableError", message: "x", nonRetryable: true }, fatal })]);
    expect(answered.end).toBe(true);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { message: fatal.instance } });
  });

  it("no pass is live while the instance is paused; the step limit counts down in `live` and it goes at the limit", async () => {
    const { workers, claim, client } = pythonWorld({ stepLimit: 3 });
    const instance = await client.create({ id: "f7" });
    const task = await claim();
    expect((await workers.calls("f7", task.lease, [step("a")])).live).toEqual({ steps: 2 });
    expect((await workers.calls("f7", task.lease, [step("b", { count: 1, ok: true })])).live).toEqual({ steps: 1 });
    expect((await workers.calls("f7", task.lease, [step("c", { count: 1, ok: true })])).live, "the limit is reached").toBeUndefined();

    const paused = await client.create({ id: "f8" });
    const next = await claim();
    await workers.calls("f8", next.lease, [step("a")]);
    await paused.pause();
    const whilePaused = await workers.calls("f8", next.lease, [step("b", { count: 1, ok: true })]);
    expect(whilePaused.answers, "the outcome is dropped: the attempt does not start while paused").toEqual([{ key: "do:b-1", pending: true }]);
    expect(whilePaused.live).toBeUndefined();
    expect((await paused.history()).filter((r) => r.type === "step.started").length).toBe(1);
    expect(await instance.status()).toMatchObject({ status: "running" });
  });
});
