import { describe, expect, it } from "vitest";
import { setup } from "xstate";
import { createManualClock, createMemoryHost, defineWorkflow, InvalidOperationError, scheduledInstanceId, type CronFiring, type MemoryHost } from "../../index";
import { cronMachine, cronReport } from "../../test/scheduled-workflows";

/** A workflow no cron starts. */
const unscheduled = defineWorkflow({ name: "unscheduled", machine: setup({}).createMachine({ id: "unscheduled" }) });

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function settle(host: MemoryHost) {
  for (let i = 0; i < 5; i++) {
    await flush();
    await host.idle();
  }
}

const hostFor = () => createMemoryHost({ workflows: [cronMachine, cronReport, unscheduled], clock: createManualClock() });

const FIRING = { cron: "*/5 * * * *", scheduledTime: 1_800_000_000_000 };

describe("cron schedules on the memory host", () => {
  it("a firing creates an instance of every workflow that lists its cron, with the firing as the machine's input and as the code-first event's schedule", async () => {
    const host = hostFor();
    const fired = await host.fireSchedule(FIRING);
    expect(fired).toEqual([
      { workflow: "cron-machine", id: scheduledInstanceId("cron-machine", FIRING), created: true },
      { workflow: "cron-report", id: scheduledInstanceId("cron-report", FIRING), created: true },
    ]);
    await settle(host);
    const machine = await host.workflow("cron-machine").get(fired[0]!.id);
    expect(await machine.status()).toMatchObject({ status: "complete", output: FIRING });
    const code = await host.workflow("cron-report").get(fired[1]!.id);
    expect(await code.status()).toMatchObject({ status: "complete", output: FIRING });
    expect((await code.history())[0]).toMatchObject({ type: "instance.created", data: { schedule: FIRING } });
    expect((await host.workflow("unscheduled").list()).instances).toEqual([]);
  });

  it("a firing delivered again creates nothing twice", async () => {
    const host = hostFor();
    await host.fireSchedule(FIRING);
    await settle(host);
    const before = await host.workflow("cron-report").list();
    const history = await (await host.workflow("cron-report").get(before.instances[0]!.id)).history();
    const again = await host.fireSchedule({ ...FIRING });
    expect(again.map((i) => i.created)).toEqual([false, false]);
    await settle(host);
    expect(await host.workflow("cron-report").list()).toEqual(before);
    expect(await (await host.workflow("cron-report").get(before.instances[0]!.id)).history()).toEqual(history);
  });

  it("each firing time and each cron is an instance of its own; a cron no workflow lists creates nothing", async () => {
    const host = hostFor();
    await host.fireSchedule(FIRING);
    await host.fireSchedule({ ...FIRING, scheduledTime: FIRING.scheduledTime + 300_000 });
    const weekly = await host.fireSchedule({ cron: "0 3 * * mon", scheduledTime: FIRING.scheduledTime });
    expect(weekly.map((i) => i.workflow)).toEqual(["cron-machine"]);
    expect(await host.fireSchedule({ cron: "0 0 1 1 *", scheduledTime: FIRING.scheduledTime })).toEqual([]);
    expect((await host.workflow("cron-machine").list()).instances).toHaveLength(3);
    expect((await host.workflow("cron-report").list()).instances).toHaveLength(2);
  });

  it("refuses a firing that is not { cron, scheduledTime } and creates nothing", async () => {
    const host = hostFor();
    for (const firing of [{ cron: "*/5 * * * *" }, { cron: "", scheduledTime: 1 }, { cron: "*/5 * * * *", scheduledTime: 1.5 }, null]) {
      await expect(host.fireSchedule(firing as CronFiring)).rejects.toBeInstanceOf(InvalidOperationError);
    }
    expect(host.storage.all()).toEqual([]);
  });
});
