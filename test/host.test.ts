import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { workflows } from "./worker";
import { until } from "./until";
import { skipAhead } from "./skew-clock";
import { B_RETRY_DELAY } from "./workflows";

const client = () => workflows.client(env);
const ledger = () => env.RUN_LEDGER.get(env.RUN_LEDGER.idFromName("ledger"));
const objectOf = (id: string) => client().stub("gated", id) as unknown as DurableObjectStub;

it("keeps an event sent before the machine waits for it, and delivers it when a state accepts it", async () => {
  const id = "early-event";
  const instance = await client().workflow("gated").create({ id, params: { instance: id, holdB: true } });
  await until(() => ledger().count(`${id}:b`), (n) => n === 1, "b to start");
  await instance.sendEvent({ type: "approve", payload: "early" });
  expect((await instance.status()).value).toBe("b");
  await ledger().release(`${id}:b`);
  const status = await until(() => instance.status(), (s) => s.status === "complete", "completion without a second event");
  expect(status.output).toEqual({ results: ["a done", "b done", "c done"], approval: "early" });
  const types = (await instance.history()).map((r) => r.type);
  expect(types.filter((t) => t === "event.received")).toHaveLength(1);
  expect(types.indexOf("event.received")).toBeLessThan(types.lastIndexOf("step.started"));
});

it("retries a failed step from the object's alarm, with the attempt and retry time in the log", async () => {
  const id = "retry-alarm";
  const instance = await client().workflow("gated").create({ id, params: { instance: id, failB: "once" } });
  await until(() => instance.history(), (h) => h.some((r) => r.type === "step.attempt_failed"), "b's first attempt to fail");
  skipAhead(B_RETRY_DELAY);
  await until(() => runDurableObjectAlarm(objectOf(id)).then(() => instance.status()), (s) => s.value === "approval", "the retry to succeed");
  const history = await instance.history();
  const failed = history.find((r) => r.type === "step.attempt_failed")!;
  expect(failed.data).toMatchObject({ key: "0.gated.b#1", attempt: 1, error: { name: "Error", message: "b failed once" } });
  expect((failed.data as { retryAt: number }).retryAt - failed.at).toBe(B_RETRY_DELAY);
  const retried = history.find((r) => r.type === "step.started" && r.data.attempt === 2)!;
  expect(retried.at).toBeGreaterThanOrEqual((failed.data as { retryAt: number }).retryAt);
  expect(await ledger().count(`${id}:b`)).toBe(2);
});

it("a step that fails for good takes the machine's onError path", async () => {
  const id = "fatal";
  const instance = await client().workflow("gated").create({ id, params: { instance: id, failB: "always" } });
  const status = await until(() => instance.status(), (s) => s.status === "complete", "the failed path");
  expect(status.value).toBe("failed");
  expect(await ledger().count(`${id}:b`)).toBe(1);
  expect((await instance.history()).find((r) => r.type === "step.failed")?.data).toMatchObject({ error: { name: "NonRetryableError", message: "b refused" } });
});

it("the log is the truth: deleting every snapshot and resetting the object changes no answer", async () => {
  const id = "no-snapshots";
  const instance = await client().workflow("gated").create({ id, params: { instance: id } });
  await until(() => instance.status(), (s) => s.value === "approval", "the approval state");
  const before = { status: await instance.status(), history: await instance.history() };
  const snapshots = await runInDurableObject(objectOf(id), (_object, state) => {
    const count = state.storage.sql.exec<{ n: number }>("SELECT COUNT(DISTINCT seq) AS n FROM snapshot_parts").one().n;
    state.storage.sql.exec("DELETE FROM snapshot_parts");
    return count;
  });
  expect(snapshots).toBeGreaterThan(0);
  await runInDurableObject(objectOf(id), (_object, state) => state.abort("reset")).catch(() => undefined);
  const after = await until(() => instance.status().then((s) => s, () => undefined), Boolean, "the object to come back");
  expect(after).toEqual(before.status);
  expect(await instance.history()).toEqual(before.history);
  await instance.sendEvent({ type: "approve", payload: "after reset" });
  expect((await until(() => instance.status(), (s) => s.status === "complete", "completion")).output).toMatchObject({ approval: "after reset" });
});

it("lists instances by status from the registry, without waking them", async () => {
  const ids = ["list-a", "list-b", "list-c"];
  for (const id of ids) await client().workflow("gated").create({ id, params: { instance: id } });
  for (const id of ids) await until(async () => (await client().workflow("gated").get(id)).status(), (s) => s.value === "approval", `${id} waiting`);
  await (await client().workflow("gated").get("list-b")).terminate();
  const listed = await until(
    () => client().workflow("gated").list({ status: "terminated" }),
    (page) => page.instances.some((i) => i.id === "list-b"),
    "the registry to see the termination",
  );
  expect(listed.instances.every((i) => i.status === "terminated")).toBe(true);
  const waiting = await until(() => client().workflow("gated").list({ status: "waiting" }), (page) => ["list-a", "list-c"].every((id) => page.instances.some((i) => i.id === id)), "waiting ones");
  expect(waiting.instances.some((i) => i.id === "list-b")).toBe(false);
  const first = await client().workflow("gated").list({ limit: 1 });
  expect(first.instances).toHaveLength(1);
  const second = await client().workflow("gated").list({ limit: 1, cursor: first.cursor! });
  const [newer, older] = [first.instances[0]!, second.instances[0]!];
  expect(older.createdAt < newer.createdAt || (older.createdAt === newer.createdAt && older.id < newer.id)).toBe(true);
});

it("keeps ringing while a step runs: after a keep-alive ring the alarm is set again", async () => {
  const id = "keepalive";
  await client().workflow("gated").create({ id, params: { instance: id, holdB: true } });
  await until(() => ledger().count(`${id}:b`), (n) => n === 1, "b to start");
  expect(await runInDurableObject(objectOf(id), (_object, state) => state.storage.getAlarm())).not.toBeNull();
  const { runDurableObjectAlarm } = await import("cloudflare:test");
  expect(await runDurableObjectAlarm(objectOf(id))).toBe(true);
  expect(await runInDurableObject(objectOf(id), (_object, state) => state.storage.getAlarm())).not.toBeNull();
  await ledger().release(`${id}:b`);
});

it("delete wipes an instance in its object and the registry, over RPC and HTTP, and frees its id", async () => {
  const { exports } = await import("cloudflare:workers");
  const worker = (exports as unknown as { default: Fetcher }).default;
  for (const via of ["client", "http"] as const) {
    const id = `deleted-${via}`;
    const instance = await client().workflow("gated").create({ id, params: { instance: id } });
    await until(() => instance.status(), (s) => s.value === "approval", "the approval state");
    await until(() => client().workflow("gated").list({ status: "waiting" }), (page) => page.instances.some((i) => i.id === id), "the registry to list it");
    if (via === "client") await instance.delete();
    else expect((await worker.fetch(`https://example.com/api/workflows/gated/instances/${id}`, { method: "DELETE", headers: { authorization: "Bearer test-token" } })).status).toBe(200);
    await expect(client().workflow("gated").get(id)).rejects.toMatchObject({ code: "instance.not_found" });
    expect((await client().workflow("gated").list({ limit: 1000 })).instances.some((i) => i.id === id)).toBe(false);
    expect(await runInDurableObject(objectOf(id), (_object, state) => state.storage.getAlarm())).toBeNull();
    const again = await client().workflow("gated").create({ id, params: { instance: id } });
    expect((await again.history())[0]).toMatchObject({ seq: 1, type: "instance.created" });
  }
});

it("the HTTP history shows a sensitive step's output as [REDACTED]", async () => {
  const { exports } = await import("cloudflare:workers");
  const worker = (exports as unknown as { default: Fetcher }).default;
  const instance = await client().workflow("secret").create({ id: "secret-1" });
  await until(() => instance.status(), (s) => s.status === "complete", "completion");
  const response = await worker.fetch("https://example.com/api/workflows/secret/instances/secret-1/history", { headers: { authorization: "Bearer test-token" } });
  const text = await response.text();
  expect(text).toContain('"output":"[REDACTED]"');
  expect(text).not.toContain("s3cr3t");
  expect((await instance.status()).output).toBe(6);
});

it("a machine saga runs in the object: the failed run undoes its compensated steps newest first, and keeps its error", async () => {
  const id = "trip-1";
  const instance = await client().workflow("trip").create({ id, params: { instance: id } });
  const status = await until(() => instance.status(), (s) => s.status === "errored", "the saga to finish");
  expect(status.error).toEqual({ name: "NonRetryableError", message: "ship refused" });
  expect(await ledger().count(`${id}:refund`)).toBe(1);
  expect(await ledger().count(`${id}:unbook`)).toBe(1);
  const undoes = (await instance.history()).filter((r) => r.type === "step.started" && r.data.key.endsWith("~undo")).map((r) => (r as { data: { key: string } }).data.key);
  expect(undoes).toEqual(["0.trip.charging#1~undo", "0.trip.booking#1~undo"]);
});
