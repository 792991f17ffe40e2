import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { InstanceNotFoundError, type InstanceStatusName } from "../index";
import { REPORT_RETRY_MS } from "../adapters/durable-object/registry-outbox";
import type { RegistryEntry } from "../adapters/durable-object/registry-object";
import { workflows } from "./worker";
import { until } from "./until";
import { skewClock, skipAhead } from "./skew-clock";
import { accept, refuse, removalsFor, updatesFor } from "./registry-probe";

/**
 * The registry converges on the instances that exist, whatever is lost on
 * the way: a status report is kept in the instance's SQLite until the
 * registry acknowledges it, goes again when the instance loads, and is
 * retried by the object's alarm. Lost reports are made by the registry
 * refusing an instance's calls (`refuse`) and by aborting the object, as a
 * kill -9 would, before anything delivers them again.
 */

const client = () => workflows.client(env);
const objectOf = (workflow: string, id: string) => client().stub(workflow, id) as unknown as DurableObjectStub;
const alarmOf = (workflow: string, id: string) => runInDurableObject(objectOf(workflow, id), (_object, state) => state.storage.getAlarm());
const registryOf = (workflow: string) => env.WORKFLOW_REGISTRY.get(env.WORKFLOW_REGISTRY.idFromName(workflow)) as unknown as { update(workflow: string, entry: RegistryEntry): Promise<void> };

async function listed(workflow: string): Promise<Map<string, InstanceStatusName>> {
  const seen = new Map<string, InstanceStatusName>();
  let cursor: string | undefined;
  do {
    const page = await client().workflow(workflow).list({ limit: 100, ...(cursor === undefined ? {} : { cursor }) });
    for (const instance of page.instances) seen.set(instance.id, instance.status);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return seen;
}

const listedIds = async (workflow: string) => [...(await listed(workflow)).keys()].sort();

/** A crash: the object's memory and in-flight work are gone, its storage (and alarm) stay; nothing is loaded again until something asks. */
async function crash(workflow: string, id: string): Promise<void> {
  await runInDurableObject(objectOf(workflow, id), (_object, state) => state.abort("crash injected by the test")).catch(() => undefined);
}

async function refusedOnce(id: string): Promise<void> {
  await until(async () => updatesFor(id), (n) => n >= 1, `the registry to refuse ${id}'s report`);
}

describe("the registry converges on the instances that exist", () => {
  // First in the file: the list and the counts of `instant` are this test's alone.
  it("after lost reports, a lost removal and a ghost row, list and counts equal the instances that exist, and deleteAll leaves nothing", async () => {
    const instant = client().workflow("instant");
    const ids = Array.from({ length: 12 }, (_, i) => `every-${String(i).padStart(2, "0")}`);
    // A third lose their first report: the registry refuses it and the object crashes before anything sends it again.
    const lost = ids.filter((_, i) => i % 3 === 0);
    for (const id of lost) refuse(id);
    await Promise.all(ids.map((id) => instant.create({ id })));
    for (const id of lost) await refusedOnce(id);
    for (const id of lost) {
      accept(id);
      await crash("instant", id);
    }
    // Half of them come back because something asks for them, the other half because their alarm rings.
    for (const [i, id] of lost.entries()) {
      if (i % 2) await instant.get(id);
      else expect(await runDurableObjectAlarm(objectOf("instant", id))).toBe(true);
    }
    expect(await until(() => listedIds("instant"), (seen) => seen.length === ids.length, "every instance listed")).toEqual(ids);
    expect(await instant.counts()).toMatchObject({ complete: ids.length, running: 0, queued: 0 });

    // A delete whose removal the registry refuses, then a crash: the instance is gone at once, and the registry forgets it when the alarm rings.
    const deleted = ids[1]!;
    refuse(deleted);
    await (await instant.get(deleted)).delete();
    await expect(instant.get(deleted)).rejects.toBeInstanceOf(InstanceNotFoundError);
    expect(removalsFor(deleted)).toBe(1);
    await crash("instant", deleted);
    accept(deleted);
    expect(await runDurableObjectAlarm(objectOf("instant", deleted))).toBe(true);
    const remaining = ids.filter((id) => id !== deleted);
    expect(await until(() => listedIds("instant"), (seen) => !seen.includes(deleted), `${deleted} forgotten`)).toEqual(remaining);
    // Then the object keeps nothing: no table, no alarm.
    const left = await runInDurableObject(objectOf("instant", deleted), async (_object, state) => ({
      tables: state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'").toArray(),
      alarm: await state.storage.getAlarm(),
    }));
    expect(left).toEqual({ tables: [], alarm: null });

    // A row the registry holds for an instance that is not there (as an older version could leave): deleteAll has the registry forget it.
    await registryOf("instant").update("instant", { id: "ghost", status: "complete", createdAt: 1, updatedAt: 1, seq: 3 });
    expect(await listedIds("instant")).toContain("ghost");

    expect(await instant.deleteAll()).toEqual({ deleted: remaining.length });
    expect(await listedIds("instant")).toEqual([]);
    expect(Object.values(await instant.counts()).every((n) => n === 0)).toBe(true);
    for (const id of [...ids, "ghost"]) await expect(instant.get(id)).rejects.toBeInstanceOf(InstanceNotFoundError);
    // No id is held by a ghost: each can be created again and is listed.
    await instant.create({ id: ids[0]! });
    await instant.create({ id: deleted });
    expect(await until(() => listedIds("instant"), (seen) => seen.length === 2, "the new instances listed")).toEqual([ids[0], deleted]);
  });

  it("a refused report goes again when the instance loads after a crash", async () => {
    const id = "refused-then-loaded";
    refuse(id);
    const instance = await client().workflow("instant").create({ id });
    await refusedOnce(id);
    accept(id);
    expect((await listed("instant")).has(id)).toBe(false);
    await crash("instant", id);
    expect((await instance.status()).status).toBe("complete");
    await until(async () => (await listed("instant")).get(id), (status) => status === "complete", "the report delivered on load");
  });

  it("a complete instance with nothing left to do keeps its alarm set for the report, and delivers it when the alarm rings after a crash", async () => {
    const id = "refused-complete";
    refuse(id);
    const instance = await client().workflow("instant").create({ id });
    await refusedOnce(id);
    const history = await instance.history();
    // Not its retention, 30 days away: the retry of the report, within seconds.
    expect(await alarmOf("instant", id)).toBeLessThanOrEqual(Date.now() + 4 * REPORT_RETRY_MS);
    accept(id);
    await crash("instant", id);
    expect(await runDurableObjectAlarm(objectOf("instant", id))).toBe(true);
    await until(async () => (await listed("instant")).get(id), (status) => status === "complete", "the report delivered by the alarm");
    expect(await instance.history()).toEqual(history);
    // Delivered, the alarm goes back to the instance's own time: its retention.
    const retention = history.at(-1)!.at + 30 * 86_400_000 - (skewClock.now() - Date.now());
    expect(await alarmOf("instant", id)).toBe(retention);
  });

  it("an alarm that rings for the report leaves the instance's timers as they were", async () => {
    const id = "refused-sleeper";
    const wait = 60_000;
    refuse(id);
    const instance = await client().workflow("gated").create({ id, params: { instance: id, wait } });
    await until(() => instance.status(), (s) => s.value === "sleeping", "the durable sleep");
    await refusedOnce(id);
    const history = await instance.history();
    const sleep = history.find((r) => r.type === "timer.started")!;
    accept(id);
    expect(await runDurableObjectAlarm(objectOf("gated", id))).toBe(true);
    const { status } = await instance.status();
    await until(async () => (await listed("gated")).get(id), (seen) => seen === status, `the registry to list ${id} as ${status}`);
    // The sleep did not end early, and the alarm is back at its time.
    expect(await instance.history()).toEqual(history);
    expect((await instance.status()).value).toBe("sleeping");
    const dueAt = (sleep.data as { dueAt: number }).dueAt;
    expect(await alarmOf("gated", id)).toBe(dueAt - (skewClock.now() - Date.now()));
    skipAhead(wait);
    await until(() => runDurableObjectAlarm(objectOf("gated", id)).then(() => instance.status()), (s) => s.value === "approval", "the sleep to end through the alarm");
  });

  it("a 1,000-step run reports where it settled, a handful of calls even while the registry refuses, and converges once it accepts", async () => {
    const id = "treadmill-refused";
    refuse(id);
    const instance = await client().workflow("treadmill").create({ id, params: { steps: 1000 } });
    await until(() => instance.status(), (s) => s.status === "complete", "the run to complete");
    await refusedOnce(id);
    accept(id);
    expect(await runDurableObjectAlarm(objectOf("treadmill", id))).toBe(true);
    await until(async () => (await listed("treadmill")).get(id), (status) => status === "complete", "the registry to list the run as complete");
    expect(updatesFor(id)).toBeLessThanOrEqual(4);
  });
});
