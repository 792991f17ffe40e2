import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { InstanceNotFoundError, InvalidLocationHintError, InvalidRetentionError, type RetentionOptions } from "../index";
import { skipAhead } from "./skew-clock";
import { until } from "./until";
import { workflows } from "./worker";

/**
 * Retention on the Durable Object host: a finished instance's object sets
 * its one alarm for when its retention runs out, and wipes itself when it
 * rings then. Time is moved with `skipAhead` and the alarm rung with
 * `runDurableObjectAlarm`; `skipAhead` is global to the isolate, so the tests
 * here run one after another.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const client = () => workflows.client(env);
const objectOf = (workflow: string, id: string) => client().stub(workflow, id) as unknown as DurableObjectStub;
const alarmOf = (workflow: string, id: string) => runInDurableObject(objectOf(workflow, id), (_object, state) => state.storage.getAlarm());
const listed = async (workflow: string, id: string) => (await client().workflow(workflow).list({ limit: 1000 })).instances.find((i) => i.id === id)?.status;

async function finished(workflow: string, id: string, status: string): Promise<void> {
  const instance = await client().workflow(workflow).get(id);
  await until(() => instance.status(), (s) => s.status === status, `${workflow}/${id} to be ${status}`);
  await until(() => listed(workflow, id), (seen) => seen === status, `the registry to list ${workflow}/${id} as ${status}`);
}

/** Gone as delete() leaves it: no instance, no alarm, nothing in the registry. */
async function expectWiped(workflow: string, id: string): Promise<void> {
  await expect(client().workflow(workflow).get(id)).rejects.toBeInstanceOf(InstanceNotFoundError);
  expect(await listed(workflow, id)).toBeUndefined();
  expect(await alarmOf(workflow, id)).toBeNull();
}

it("a completed instance is wiped by its object's alarm once successRetention has passed, even after the object restarted; the id is free again", async () => {
  const id = "retained-secret";
  const instance = await client().workflow("secret").create({ id, retention: { successRetention: "1 hour", errorRetention: "30 days" } });
  await finished("secret", id, "complete");
  const history = await instance.history();
  expect(history[0]).toMatchObject({ type: "instance.created", data: { retention: { successMs: HOUR, errorMs: 30 * DAY } } });

  // Rung early, the alarm changes nothing and is set again.
  expect(await runDurableObjectAlarm(objectOf("secret", id))).toBe(true);
  expect(await instance.history()).toEqual(history);
  expect(await alarmOf("secret", id)).not.toBeNull();

  await runInDurableObject(objectOf("secret", id), (_object, state) => state.abort("restart")).catch(() => undefined);
  skipAhead(HOUR);
  expect(await runDurableObjectAlarm(objectOf("secret", id))).toBe(true);
  await expectWiped("secret", id);

  const again = await client().workflow("secret").create({ id });
  expect((await again.history())[0]).toMatchObject({ seq: 1, type: "instance.created" });
});

it("errored and terminated instances are wiped after errorRetention; a completed one with the same retention stays", async () => {
  const retention: RetentionOptions = { successRetention: "10 days", errorRetention: "1 hour" };
  await client().workflow("trip").create({ id: "retained-trip", params: { instance: "retained-trip" }, retention });
  const terminated = await client().workflow("gated").create({ id: "retained-gated", params: { instance: "retained-gated" }, retention });
  await client().workflow("secret").create({ id: "retained-complete", retention });
  await until(() => terminated.status(), (s) => s.value === "approval", "the approval state");
  await terminated.terminate();
  await finished("trip", "retained-trip", "errored");
  await finished("gated", "retained-gated", "terminated");
  await finished("secret", "retained-complete", "complete");

  skipAhead(HOUR);
  for (const [workflow, id] of [["trip", "retained-trip"], ["gated", "retained-gated"], ["secret", "retained-complete"]] as const) {
    expect(await runDurableObjectAlarm(objectOf(workflow, id)), `an alarm was set for ${workflow}/${id}`).toBe(true);
  }
  await expectWiped("trip", "retained-trip");
  await expectWiped("gated", "retained-gated");
  expect(await listed("secret", "retained-complete")).toBe("complete");
});

it("a restart of a finished instance cancels its deletion", async () => {
  const id = "retained-restart";
  const instance = await client().workflow("gated").create({ id, params: { instance: id }, retention: { errorRetention: "1 hour" } });
  await until(() => instance.status(), (s) => s.value === "approval", "the approval state");
  await instance.terminate();
  await finished("gated", id, "terminated");
  await instance.restart();
  await until(() => instance.status(), (s) => s.value === "approval", "the approval state again");

  // Past the old deletion time, the alarm only fires the approval's 60-second timeout.
  skipAhead(HOUR);
  expect(await runDurableObjectAlarm(objectOf("gated", id))).toBe(true);
  expect(await until(() => instance.status(), (s) => s.status === "complete", "the timeout")).toMatchObject({ value: "expired" });
});

it("a bad retention or location hint is refused before anything is created, in create() and createBatch()", async () => {
  const gated = client().workflow("gated");
  await expect(gated.create({ id: "refused-retention", retention: { successRetention: 0 } })).rejects.toBeInstanceOf(InvalidRetentionError);
  await expect(gated.create({ id: "refused-hint", locationHint: "mars" as never })).rejects.toMatchObject({
    code: "location_hint.invalid",
    message: expect.stringContaining('Invalid option: expected one of "wnam"|"weur"'),
  });
  await expect(gated.createBatch({ instances: [{ id: "refused-batch-1" }, { id: "refused-batch-2", locationHint: "moon" as never }] })).rejects.toBeInstanceOf(InvalidLocationHintError);
  await expect(gated.createBatch({ count: 2, retention: { errorRetention: "1 h" as never } })).rejects.toBeInstanceOf(InvalidRetentionError);
  for (const id of ["refused-retention", "refused-hint", "refused-batch-1", "refused-batch-2"]) {
    await expect(gated.get(id)).rejects.toBeInstanceOf(InstanceNotFoundError);
  }
  expect((await gated.list({ limit: 1000 })).instances.filter((i) => i.id.startsWith("refused"))).toEqual([]);
});

it("create() hands the location hint to the namespace when it makes the instance's object", async () => {
  const hints: unknown[] = [];
  const namespace = env.WORKFLOW_INSTANCES;
  const watched = new Proxy(namespace, {
    get(target, property) {
      if (property === "get") {
        return (id: DurableObjectId, options?: DurableObjectNamespaceGetDurableObjectOptions) => {
          hints.push(options?.locationHint);
          return options ? target.get(id, options) : target.get(id);
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const hinted = workflows.client({ ...env, WORKFLOW_INSTANCES: watched });
  const instance = await hinted.workflow("secret").create({ id: "hinted", locationHint: "weur" });
  expect(hints[0]).toBe("weur");
  expect((await until(() => instance.status(), (s) => s.status === "complete", "completion")).output).toBe(6);
});

it("the HTTP API takes retention and locationHint when it creates an instance, and refuses bad ones with 400", async () => {
  const { exports } = await import("cloudflare:workers");
  const worker = (exports as unknown as { default: Fetcher }).default;
  const post = (body: unknown) =>
    worker.fetch("https://example.com/api/workflows/secret/instances", { method: "POST", headers: { authorization: "Bearer test-token", "content-type": "application/json" }, body: JSON.stringify(body) });

  const created = await post({ id: "http-retained", retention: { successRetention: "2 days" }, locationHint: "enam" });
  expect(created.status).toBe(201);
  const [first] = await (await client().workflow("secret").get("http-retained")).history();
  expect(first).toMatchObject({ data: { retention: { successMs: 2 * DAY, errorMs: 30 * DAY } } });

  for (const [body, code] of [
    [{ id: "http-refused", retention: { successRetention: "2 dayz" } }, "retention.invalid"],
    [{ id: "http-refused", locationHint: "north-pole" }, "location_hint.invalid"],
  ] as const) {
    const refused = await post(body);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(code);
  }
  await expect(client().workflow("secret").get("http-refused")).rejects.toBeInstanceOf(InstanceNotFoundError);
});
