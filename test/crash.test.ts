import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { workflows } from "./worker";
import { until } from "./until";
import { skipAhead } from "./skew-clock";
import { B_RETRY_DELAY } from "./workflows";

const client = () => workflows.client(env);
const ledger = () => env.RUN_LEDGER.get(env.RUN_LEDGER.idFromName("ledger"));
const objectOf = (id: string) => client().stub("gated", id) as unknown as DurableObjectStub;

/**
 * A crash: the object's in-memory state and in-flight work are gone; only its
 * storage remains. The next request (here a status read) builds it anew.
 */
async function abort(id: string): Promise<void> {
  await runInDurableObject(objectOf(id), (_instance, state) => {
    state.abort("crash injected by the test");
  }).catch(() => undefined);
  await wake(id);
}

/** An eviction: the runtime tears the idle object down; it refuses while requests are in flight, so only idle points use it. */
async function evict(id: string): Promise<void> {
  await evictDurableObject(objectOf(id));
  await wake(id);
}

async function wake(id: string): Promise<void> {
  const instance = await client().workflow("gated").get(id).catch(() => undefined);
  await until(async () => (instance ? instance.status().then(() => true, () => false) : false), Boolean, `${id} to answer after the crash`);
}

type Crash = (id: string) => Promise<void>;
const idleCrashes: [string, Crash][] = [
  ["aborted", abort],
  ["evicted", evict],
];

async function approveAndFinish(id: string) {
  const instance = await client().workflow("gated").get(id);
  await until(() => instance.status(), (s) => s.value === "approval", `${id} waiting for approval`);
  await instance.sendEvent({ type: "approve", payload: id });
  return until(() => instance.status(), (s) => s.status === "complete", `${id} complete`);
}

const expected = (id: string) => ({ results: ["a done", "b done", "c done"], approval: id });

describe("an instance aborted mid-step", () => {
  const crash = abort;
  const _how = "aborted";

  it("during a step: the step runs again with a new attempt, earlier steps do not", async () => {
    const id = `during-${_how}`;
    const instance = await client().workflow("gated").create({ id, params: { instance: id, holdB: true } });
    await until(() => ledger().count(`${id}:b`), (n) => n === 1, "b to start");
    await crash(id);
    await until(() => ledger().count(`${id}:b`), (n) => n === 2, "b to run again after recovery");
    await ledger().release(`${id}:b`);
    expect((await approveAndFinish(id)).output).toEqual(expected(id));
    expect(await ledger().count(`${id}:a`)).toBe(1);
    expect(await ledger().count(`${id}:b`)).toBe(2);
    expect(await ledger().count(`${id}:c`)).toBe(1);
    const started = (await instance.history()).filter((r) => r.type === "step.started" && r.data.key.startsWith("0.gated.b"));
    expect(started.map((r) => (r as { data: { attempt: number } }).data.attempt)).toEqual([1, 2]);
  });

  it("after a step's result is recorded, while the next step runs: the recorded step never runs again", async () => {
    const id = `between-${_how}`;
    await client().workflow("gated").create({ id, params: { instance: id, holdB: true } });
    await until(() => ledger().count(`${id}:b`), (n) => n === 1, "a recorded and b started");
    await crash(id);
    await until(() => ledger().count(`${id}:b`), (n) => n === 2, "b running again");
    await ledger().release(`${id}:b`);
    expect((await approveAndFinish(id)).output).toEqual(expected(id));
    expect(await ledger().count(`${id}:a`)).toBe(1);
  });
});

describe.each(idleCrashes)("an idle instance %s", (_how, crash) => {
  it("before a step starts (while its retry waits): the retry still happens once, from the alarm", async () => {
    const id = `before-${_how}`;
    const instance = await client().workflow("gated").create({ id, params: { instance: id, failB: "once" } });
    await until(() => instance.history(), (h) => h.some((r) => r.type === "step.attempt_failed"), "b's first attempt to fail");
    await crash(id);
    expect(await ledger().count(`${id}:b`)).toBe(1);
    skipAhead(B_RETRY_DELAY);
    await until(() => runDurableObjectAlarm(objectOf(id)).then(() => ledger().count(`${id}:b`)), (n) => n === 2, "b's retry through the alarm");
    expect((await approveAndFinish(id)).output).toEqual(expected(id));
    expect(await ledger().count(`${id}:a`)).toBe(1);
    expect(await ledger().count(`${id}:b`)).toBe(2);
    expect(await ledger().count(`${id}:c`)).toBe(1);
  });

  it("while a timer is pending: the timer survives and fires from the alarm", async () => {
    const id = `timer-${_how}`;
    // A minute: the sleep cannot end on its own before the crash; the clock is moved past it after.
    const wait = 60_000;
    const instance = await client().workflow("gated").create({ id, params: { instance: id, wait } });
    await until(() => instance.status(), (s) => s.value === "sleeping", "the durable sleep");
    await crash(id);
    expect((await instance.status()).value).toBe("sleeping");
    skipAhead(wait);
    await until(() => runDurableObjectAlarm(objectOf(id)).then(() => instance.status()), (s) => s.value === "approval", "the sleep to end through the alarm");
    expect((await approveAndFinish(id)).output).toEqual(expected(id));
    expect((await instance.history()).filter((r) => r.type === "timer.fired")).toHaveLength(1);
    for (const step of ["a", "b", "c"]) expect(await ledger().count(`${id}:${step}`)).toBe(1);
  });
});
