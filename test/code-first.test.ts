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
