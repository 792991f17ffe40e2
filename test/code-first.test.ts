import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { skipAhead } from "./skew-clock";
import { until } from "./until";
import { workflows } from "./worker";

const client = () => workflows.client(env);
const ledger = () => env.RUN_LEDGER.get(env.RUN_LEDGER.idFromName("ledger"));

const objectOf = (workflow: string, id: string) => client().stub(workflow, id) as unknown as DurableObjectStub;

async function abort(workflow: string, id: string): Promise<void> {
  await runInDurableObject(objectOf(workflow, id), (_object, state) => state.abort("crash injected by the test")).catch(() => undefined);
}

it("a code-first instance aborted while it waits replays run() from its log: done steps are not run again", async () => {
  const id = "code-crash-1";
  const instance = await client().workflow("dm-held").create({ id });
  await until(() => instance.status(), (s) => (s.value as string[]).includes("waitForEvent:go-1"), "the wait");
  await abort("dm-held", id);
  await until(() => instance.status().then(() => true, () => false), Boolean, "the object to come back");
  await instance.sendEvent({ type: "go" });
  const status = await until(() => instance.status(), (s) => s.status === "complete", "completion");
  expect(status.output).toBe(3);
  expect(await ledger().count(`${id}:first`)).toBe(1);
  expect(await ledger().count(`${id}:second`)).toBe(1);
  expect(await ledger().count(`${id}:third`)).toBe(1);
});

it("a code-first instance aborted during its sleep wakes from the alarm and finishes", async () => {
  const id = "code-crash-2";
  // A minute: the sleep cannot end on its own before the abort; the clock is moved past it after.
  const nap = 60_000;
  const instance = await client().workflow("dm-held").create({ id, params: { nap } });
  await until(() => instance.status(), (s) => (s.value as string[]).includes("waitForEvent:go-1"), "the wait");
  await instance.sendEvent({ type: "go" });
  await until(() => instance.status(), (s) => (s.value as string[]).includes("sleep:nap-1"), "the sleep");
  await abort("dm-held", id);
  const back = await until(() => instance.status().catch(() => undefined), (s) => s !== undefined, "the object to come back");
  expect(back!.value).toContain("sleep:nap-1");
  expect(await ledger().count(`${id}:third`)).toBe(0);
  skipAhead(nap);
  const ring = async () => (await runDurableObjectAlarm(objectOf("dm-held", id)), instance.status());
  const status = await until(() => ring().catch(() => ({ status: "down" })), (s) => s.status === "complete", "completion after the alarm");
  expect(status).toMatchObject({ output: 3 });
  for (const step of ["first", "second", "third"]) expect(await ledger().count(`${id}:${step}`)).toBe(1);
});

it("restart from a step named Cloudflare's way keeps what ran before it", async () => {
  const id = "code-restart-from";
  const instance = await client().workflow("dm-sequential").create({ id });
  await until(() => instance.status(), (s) => s.status === "complete", "the first run");
  await instance.restart({ from: { name: "b" } });
  await until(() => ledger().count(`${id}:c`), (n) => n === 2, "c to run again");
  await until(() => instance.status(), (s) => s.status === "complete", "the second run to finish");
  expect(await ledger().count(`${id}:a`)).toBe(1);
  expect(await ledger().count(`${id}:b`)).toBe(2);
  const history = await instance.history();
  expect(history.filter((r) => r.type === "instance.completed")).toHaveLength(2);
});

it("a lone code-first step keeps the keep-alive alarm set, so a crash in its middle is woken without a request", async () => {
  // The chaos suite found code-first instances that stood still after a kill: the alarm was armed
  // when step.started was appended, before the attempt counted as running, so a lone step set none.
  const id = "code-keepalive";
  await client().workflow("evicted-relay").create({ id, params: { holdB: 1 } });
  await until(() => ledger().count(`${id}:b`), (n) => n === 1, "b to start and hold");
  // The registry's report is acknowledged, so no report retry holds the alarm up either.
  await until(() => client().workflow("evicted-relay").list(), (page) => page.instances.some((i) => i.id === id), "the registry to list it");
  // The keep-alive rings 30 s ahead; a report still owed would ring within 5 s.
  const alarm = () => runInDurableObject(objectOf("evicted-relay", id), (_object, state) => state.storage.getAlarm());
  await until(alarm, (at) => at === null || at - Date.now() > 10_000, "the report's retry to be cleared", 500);
  expect(await alarm()).not.toBeNull();
  await abort("evicted-relay", id);
  // Brought back by its alarm, the object runs b again and the run goes on to its wait.
  await ledger().release(`${id}:b`);
  await until(() => runDurableObjectAlarm(objectOf("evicted-relay", id)).then(() => true, () => false), Boolean, "the alarm to ring");
  const instance = await client().workflow("evicted-relay").get(id);
  await until(() => instance.status(), (s) => (s.value as string[]).includes("waitForEvent:go-1"), "the run to reach its wait");
});
