import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { LogRecord } from "../index";
import { UNDO_RETRY_DELAY } from "./eviction-workflows";
import { skipAhead } from "./skew-clock";
import { until } from "./until";
import { workflows } from "./worker";

/**
 * Code-first instances whose object goes away in the middle of a rollback, of
 * a restart and of a subscription: evicted by the runtime at an idle point,
 * or aborted (a crash) while a callback is still running. Everything that
 * is needed to go on is in the log; nothing that finished runs again.
 */
const client = () => workflows.client(env);
const ledger = () => env.RUN_LEDGER.get(env.RUN_LEDGER.idFromName("ledger"));
const objectOf = (workflow: string, id: string) => client().stub(workflow, id) as unknown as DurableObjectStub;

async function evict(workflow: string, id: string): Promise<void> {
  await evictDurableObject(objectOf(workflow, id));
}

async function abort(workflow: string, id: string): Promise<void> {
  await runInDurableObject(objectOf(workflow, id), (_object, state) => state.abort("crash injected by the test")).catch(() => undefined);
}

/** Brings the object back the way the runtime would: its alarm fires. */
async function wakeByAlarm(workflow: string, id: string): Promise<void> {
  await until(() => runDurableObjectAlarm(objectOf(workflow, id)).then(() => true, () => false), Boolean, `${id}'s alarm`);
}

const runs = (id: string, name: string) => ledger().count(`${id}:${name}`);
const ofType = (log: LogRecord[], type: LogRecord["type"]) => log.filter((r) => r.type === type);
const keys = (log: LogRecord[], type: LogRecord["type"]) => ofType(log, type).map((r) => (r.data as { key: string }).key);
const attempts = (log: LogRecord[], type: LogRecord["type"]) => ofType(log, type).map((r) => `${(r.data as { key: string }).key}#${(r.data as { attempt: number }).attempt}`);

/** Waits for the end, ringing the alarm now and then as the runtime would. */
async function ended(workflow: string, id: string) {
  const instance = await client().workflow(workflow).get(id);
  const read = async () => {
    await runDurableObjectAlarm(objectOf(workflow, id)).catch(() => false);
    return instance.status();
  };
  return until(read, (s) => ["complete", "errored", "terminated"].includes(s.status), `${id} to end`, 1000);
}

describe("a rollback interrupted by its object going away", () => {
  it("evicted while a handler waits for its retry: the rollback resumes there, no finished handler runs again, none is lost", async () => {
    const id = "evicted-rollback";
    const instance = await client().workflow("evicted-saga").create({ id, params: { failUndo: "charge" } });
    await until(() => instance.history(), (log) => ofType(log, "rollback.step.attempt_failed").length === 1, "the charge handler's first failure");
    // The retry's time is in the log and on the alarm; nothing runs, so the runtime can evict the object.
    await evict("evicted-saga", id);
    expect(await runs(id, "undo charge")).toBe(1);
    expect((await instance.status()).status).toBe("rollingBack");
    skipAhead(UNDO_RETRY_DELAY);
    expect(await ended("evicted-saga", id)).toMatchObject({ status: "errored", error: { name: "TypeError", message: "parcel lost" } });
    expect([await runs(id, "undo ship"), await runs(id, "undo charge"), await runs(id, "undo reserve")]).toEqual([1, 2, 1]);
    const log = await instance.history();
    expect(keys(log, "rollback.step.succeeded")).toEqual(["do:ship-1", "do:charge-1", "do:reserve-1"]);
    expect(ofType(log, "rollback.started")).toHaveLength(1);
    // The object that took the rollback up again went on with the handler's second attempt.
    expect(attempts(log, "rollback.step.started")).toEqual(["do:ship-1#1", "do:charge-1#1", "do:charge-1#2", "do:reserve-1#1"]);
    for (const step of ["reserve", "charge", "ship"]) expect(await runs(id, step)).toBe(1);
  });

  it("aborted while a handler runs: that handler runs again, the ones that finished do not, the rest still run", async () => {
    const id = "aborted-rollback";
    const instance = await client().workflow("evicted-saga").create({ id, params: { holdUndo: "charge" } });
    await until(() => runs(id, "undo charge"), (n) => n === 1, "the charge handler to start");
    await abort("evicted-saga", id);
    await ledger().release(`${id}:undo charge`);
    await wakeByAlarm("evicted-saga", id);
    expect(await ended("evicted-saga", id)).toMatchObject({ status: "errored", error: { name: "TypeError", message: "parcel lost" } });
    expect([await runs(id, "undo ship"), await runs(id, "undo charge"), await runs(id, "undo reserve")]).toEqual([1, 2, 1]);
    const log = await instance.history();
    expect(keys(log, "rollback.step.succeeded")).toEqual(["do:ship-1", "do:charge-1", "do:reserve-1"]);
    // The attempt the crash cut short is not counted as a failure: the next one is attempt 2, within the handler's limit.
    expect(attempts(log, "rollback.step.started")).toEqual(["do:ship-1#1", "do:charge-1#1", "do:charge-1#2", "do:reserve-1#1"]);
    expect(ofType(log, "rollback.step.attempt_failed")).toEqual([]);
    expect(log.at(-1)!.type).toBe("instance.errored");
  });
});

describe("a restart from a step interrupted by its object going away", () => {
  it("evicted while the restarted run waits: the steps before the restart point are kept, the rest run once more", async () => {
    const id = "restart-evicted";
    const instance = await client().workflow("evicted-relay").create({ id });
    await instance.sendEvent({ type: "go" });
    await until(() => instance.status(), (s) => s.status === "complete", "the first run");
    await instance.restart({ from: { name: "b" } });
    await until(() => instance.status(), (s) => s.status === "waiting", "the restarted run to wait for go");
    await evict("evicted-relay", id);
    await instance.sendEvent({ type: "go" });
    expect(await ended("evicted-relay", id)).toMatchObject({ status: "complete", output: { a: 1, b: 2, c: 2 } });
    expect([await runs(id, "a"), await runs(id, "b"), await runs(id, "c")]).toEqual([1, 2, 2]);
    const log = await instance.history();
    expect(ofType(log, "instance.restarted")).toHaveLength(1);
    expect(attempts(log, "step.started")).toEqual(["do:a-1#1", "do:b-1#1", "do:c-1#1", "do:b-1#1", "do:c-1#1"]);
  });

  it("aborted while the restarted step runs: that step runs again, the steps before it do not", async () => {
    const id = "restart-aborted";
    const instance = await client().workflow("evicted-relay").create({ id, params: { holdB: 2 } });
    await instance.sendEvent({ type: "go" });
    await until(() => instance.status(), (s) => s.status === "complete", "the first run");
    await instance.restart({ from: { name: "b" } });
    await until(() => runs(id, "b"), (n) => n === 2, "b to run again");
    await abort("evicted-relay", id);
    await ledger().release(`${id}:b`);
    await wakeByAlarm("evicted-relay", id);
    await until(() => instance.status(), (s) => s.status === "waiting", "the restarted run to wait for go");
    await instance.sendEvent({ type: "go" });
    expect(await ended("evicted-relay", id)).toMatchObject({ status: "complete", output: { a: 1, b: 3, c: 2 } });
    expect([await runs(id, "a"), await runs(id, "b"), await runs(id, "c")]).toEqual([1, 3, 2]);
    expect(attempts(await instance.history(), "step.started")).toEqual(["do:a-1#1", "do:b-1#1", "do:c-1#1", "do:b-1#1", "do:b-1#2", "do:c-1#1"]);
  });
});

describe("a subscription whose instance's object goes away", () => {
  it.each([
    ["evicted while the run waits for an event", "evict"],
    ["aborted while a step runs", "abort"],
  ] as const)("%s: the subscriber reads on from its cursor and misses nothing", async (_label, how) => {
    const id = `subscribed-${how}`;
    const instance = await client().workflow("evicted-relay").create({ id, params: how === "abort" ? { holdB: 1 } : {} });
    const subscription = await instance.subscribe();
    const seen: Delivered[] = [];
    const stopAt = how === "evict" ? "wait_started" : "attempt_started";
    while (!seen.some((e) => e.type === stopAt && e.stepName === (how === "evict" ? "go-1" : "b-1"))) {
      const next = await subscription.next();
      if (next.done) throw new Error("the subscription ended early");
      seen.push(next.value);
    }
    const cursor = seen.at(-1)!.eventId;
    if (how === "evict") await evict("evicted-relay", id);
    else {
      await abort("evicted-relay", id);
      await ledger().release(`${id}:b`);
      await wakeByAlarm("evicted-relay", id);
      await until(() => instance.status(), (s) => s.status === "waiting", "the wait for go");
    }
    await instance.sendEvent({ type: "go" });
    const rest = await drain(subscription);
    const all = [...seen, ...rest];
    expect(all.map((e) => e.eventId)).toEqual(all.map((_, i) => i + 1));
    expect(all.at(-1)!.type).toBe("workflow_completed");
    expect(await drain(await instance.subscribe({ cursor }))).toEqual(rest);
    expect(await drain(await instance.subscribe())).toEqual(all);
    expect([await runs(id, "a"), await runs(id, "c")]).toEqual([1, 1]);
  });
});

type Delivered = { eventId: number; type: string; stepName?: string };

async function drain(subscription: { next(): Promise<IteratorResult<Delivered, void>> }): Promise<Delivered[]> {
  const events: Delivered[] = [];
  for (let next = await subscription.next(); !next.done; next = await subscription.next()) events.push(next.value);
  return events;
}
