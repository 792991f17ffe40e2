import { env } from "cloudflare:workers";
import { createScheduledController } from "cloudflare:test";
import { expect, it } from "vitest";
import { scheduledInstanceId, type CronFiring } from "../index";
import { until } from "./until";
import worker, { workflows } from "./worker";

/**
 * Cron schedules through the Worker's own `scheduled` handler, as
 * Cloudflare's Cron Triggers call it. Cloudflare's local Workflows engine
 * has no trigger for `[[workflows]] schedules`, so there is no peer to
 * compare with here.
 */

const client = () => workflows.client(env);

const fire = (firing: CronFiring) => worker.scheduled(createScheduledController(firing), env);

const idsOf = async (workflow: string) => (await client().workflow(workflow).list({ limit: 1000 })).instances.map((i) => i.id).sort();

async function outputOf(workflow: string, firing: CronFiring): Promise<unknown> {
  const instance = await client().workflow(workflow).get(scheduledInstanceId(workflow, firing));
  return (await until(() => instance.status(), (s) => s.status === "complete", `${workflow} to complete`)).output;
}

it("a firing creates an instance of each workflow whose schedules list its cron, carrying the firing", async () => {
  const firing = { cron: "*/5 * * * *", scheduledTime: Date.UTC(2026, 10, 25, 10, 5) };
  await fire(firing);
  expect(await outputOf("cron-machine", firing)).toEqual(firing);
  expect(await outputOf("cron-report", firing)).toEqual(firing);
  expect(await idsOf("gated")).not.toContain(scheduledInstanceId("gated", firing));

  const weekly = { cron: "0 3 * * MON", scheduledTime: Date.UTC(2026, 10, 30, 3, 0) };
  await fire(weekly);
  expect(await outputOf("cron-machine", weekly)).toEqual(weekly);
  await expect(client().workflow("cron-report").get(scheduledInstanceId("cron-report", weekly))).rejects.toMatchObject({ code: "instance.not_found" });
});

it("a firing delivered twice creates nothing twice", async () => {
  const firing = { cron: "*/5 * * * *", scheduledTime: Date.UTC(2026, 10, 25, 11, 0) };
  await fire(firing);
  await outputOf("cron-report", firing);
  await outputOf("cron-machine", firing);
  const report = await client().workflow("cron-report").get(scheduledInstanceId("cron-report", firing));
  const history = await report.history();
  const listed = (workflow: string) => until(() => idsOf(workflow), (ids) => ids.includes(scheduledInstanceId(workflow, firing)), `the registry to list ${workflow}`);
  const before = { machine: await listed("cron-machine"), report: await listed("cron-report") };

  await fire({ ...firing });
  expect(await report.history()).toEqual(history);
  expect(await client().fireSchedule(firing)).toEqual([
    { workflow: "cron-machine", id: scheduledInstanceId("cron-machine", firing), created: false },
    { workflow: "cron-report", id: scheduledInstanceId("cron-report", firing), created: false },
  ]);
  expect({ machine: await idsOf("cron-machine"), report: await idsOf("cron-report") }).toEqual(before);
});
