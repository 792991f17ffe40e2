import { describe, expect, it } from "vitest";
import { setup } from "xstate";
import {
  createManualClock,
  createMemoryHost,
  defineWorkflow,
  InstanceNotFoundError,
  InvalidLocationHintError,
  InvalidRetentionError,
  WorkflowEntrypoint,
  type DurableMachinesError,
  type LogRecord,
  type MemoryHost,
  type RetentionOptions,
  type WorkflowEvent,
  type WorkflowStep,
} from "../../index";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A machine that completes on `go`. */
const waits = defineWorkflow({
  name: "waits",
  machine: setup({}).createMachine({ id: "waits", initial: "idle", states: { idle: { on: { go: "done" } }, done: { type: "final" } } }),
});

/** A code-first run that waits for `go`, then completes, or errors when its params ask. */
class Gate extends WorkflowEntrypoint<unknown, { fail?: boolean } | undefined> {
  async run(event: WorkflowEvent<{ fail?: boolean } | undefined>, step: WorkflowStep) {
    await step.waitForEvent("go", { type: "go", timeout: "30 days" });
    if (event.payload?.fail) throw new Error("asked to fail");
    return "done";
  }
}
const gate = defineWorkflow({ name: "gate", entrypoint: Gate });

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function settle(host: MemoryHost) {
  for (let i = 0; i < 5; i++) {
    await flush();
    await host.idle();
  }
}

function hostFor(retention?: RetentionOptions) {
  const clock = createManualClock();
  const host = createMemoryHost({ workflows: [waits, gate], clock, ...(retention ? { retention } : {}) });
  return { host, clock };
}

const ids = async (host: MemoryHost, workflow: string) => (await host.workflow(workflow).list()).instances.map((i) => i.id);

describe("retention on the memory host", () => {
  it("deletes a completed instance once successRetention has passed since it finished, not before; the id can be used again", async () => {
    const { host, clock } = hostFor();
    const client = host.workflow("waits");
    const instance = await client.create({ id: "kept", retention: { successRetention: "1 hour", errorRetention: "1 day" } });
    clock.advance(5 * HOUR);
    await instance.sendEvent({ type: "go" });
    expect((await instance.status()).status).toBe("complete");

    clock.advance(HOUR - 1);
    expect((await client.get("kept")).id).toBe("kept");
    expect(await ids(host, "waits")).toEqual(["kept"]);

    clock.advance(1);
    await expect(client.get("kept")).rejects.toBeInstanceOf(InstanceNotFoundError);
    expect(host.storage.has("waits", "kept")).toBe(false);
    expect(await ids(host, "waits")).toEqual([]);
    const again = await client.create({ id: "kept" });
    expect((await again.history()).map((r) => r.type)).toEqual(["instance.created"]);
  });

  it("keeps errored and terminated instances for errorRetention, completed ones for successRetention", async () => {
    const { host, clock } = hostFor();
    const retention = { successRetention: "1 day", errorRetention: "1 hour" } as const;
    const errored = await host.workflow("gate").create({ id: "errored", params: { fail: true }, retention });
    const completed = await host.workflow("gate").create({ id: "completed", retention });
    const terminated = await host.workflow("waits").create({ id: "terminated", retention });
    await settle(host);
    await errored.sendEvent({ type: "go" });
    await completed.sendEvent({ type: "go" });
    await terminated.terminate();
    await settle(host);
    expect([(await errored.status()).status, (await completed.status()).status, (await terminated.status()).status]).toEqual(["errored", "complete", "terminated"]);

    clock.advance(HOUR);
    expect(await ids(host, "gate")).toEqual(["completed"]);
    expect(await ids(host, "waits")).toEqual([]);
    clock.advance(DAY - HOUR);
    expect(await ids(host, "gate")).toEqual([]);
  });

  it("keeps finished instances 30 days by default, or as long as the host's retention says", async () => {
    const byDefault = hostFor();
    await (await byDefault.host.workflow("waits").create({ id: "a" })).terminate();
    byDefault.clock.advance(30 * DAY - 1);
    expect(await ids(byDefault.host, "waits")).toEqual(["a"]);
    byDefault.clock.advance(1);
    expect(await ids(byDefault.host, "waits")).toEqual([]);

    const configured = hostFor({ errorRetention: "2 days" });
    await (await configured.host.workflow("waits").create({ id: "b" })).terminate();
    await (await configured.host.workflow("waits").create({ id: "c", retention: { errorRetention: "1 day" } })).terminate();
    configured.clock.advance(DAY);
    expect(await ids(configured.host, "waits")).toEqual(["b"]);
    configured.clock.advance(DAY);
    expect(await ids(configured.host, "waits")).toEqual([]);
  });

  it("records the retention in instance.created, so it holds after a crash", async () => {
    const { host, clock } = hostFor();
    const instance = await host.workflow("waits").create({ id: "durable", retention: { successRetention: 90_000 } });
    const [created] = (await instance.history()) as [LogRecord<"instance.created">];
    expect(created.data.retention).toEqual({ successMs: 90_000, errorMs: 30 * DAY });
    await instance.sendEvent({ type: "go" });
    host.crash();
    clock.advance(90_000);
    expect(await ids(host, "waits")).toEqual([]);
  });

  it("a restart of a finished instance cancels its deletion; finishing again starts the retention over", async () => {
    const { host, clock } = hostFor();
    const instance = await host.workflow("gate").create({ id: "again", retention: { successRetention: "1 hour" } });
    await settle(host);
    await instance.sendEvent({ type: "go" });
    await settle(host);
    expect((await instance.status()).status).toBe("complete");

    await instance.restart();
    await settle(host);
    clock.advance(2 * HOUR);
    expect((await instance.status()).status).toBe("waiting");

    await instance.sendEvent({ type: "go" });
    await settle(host);
    clock.advance(HOUR - 1);
    expect((await instance.status()).status).toBe("complete");
    clock.advance(1);
    await expect(instance.status()).rejects.toBeInstanceOf(InstanceNotFoundError);
  });
});

describe("bad retention or location hints are refused, and nothing is created", () => {
  async function refused(action: () => Promise<unknown>, kind: typeof InvalidRetentionError | typeof InvalidLocationHintError): Promise<DurableMachinesError> {
    const error = await action().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(kind);
    return error as DurableMachinesError;
  }

  it("create() refuses a retention Cloudflare would refuse", async () => {
    const { host } = hostFor();
    for (const retention of [{ successRetention: 0 }, { errorRetention: "1 h" }, { successRetention: 1.5 }, { keep: "1 day" }, "1 day"]) {
      const error = await refused(() => host.workflow("waits").create({ id: "r", retention: retention as RetentionOptions }), InvalidRetentionError);
      expect(error.code).toBe("retention.invalid");
    }
    expect(host.storage.all()).toEqual([]);
  });

  it("create() refuses a location hint that is not one of Cloudflare's, with its message", async () => {
    const { host } = hostFor();
    const error = await refused(() => host.workflow("waits").create({ id: "l", locationHint: "mars" as never }), InvalidLocationHintError);
    expect(error.code).toBe("location_hint.invalid");
    expect(error.message).toContain('Invalid option: expected one of "wnam"|"weur"|"enam"|"eeur"|"apac"|"apac-ne"|"apac-se"|"oc"|"sam"|"afr"|"me"');
    expect(host.storage.all()).toEqual([]);
    expect((await host.workflow("waits").create({ id: "l", locationHint: "weur" })).id).toBe("l");
  });

  it("createBatch refuses the whole batch for one bad entry, in both forms that take options", async () => {
    const { host } = hostFor();
    const client = host.workflow("waits");
    await refused(() => client.createBatch({ instances: [{ id: "fine" }, { id: "bad", retention: { errorRetention: -1 } }] }), InvalidRetentionError);
    await refused(() => client.createBatch({ instances: [{ id: "fine" }, { id: "bad", locationHint: "moon" as never }] }), InvalidLocationHintError);
    await refused(() => client.createBatch({ count: 3, retention: { successRetention: "never" as never } }), InvalidRetentionError);
    expect(host.storage.all()).toEqual([]);
  });

  it("createBatch applies retention to each instance it creates, in every form", async () => {
    const { host, clock } = hostFor();
    const client = host.workflow("waits");
    const retention = { errorRetention: "1 hour" } as const;
    const { created: counted } = await client.createBatch({ count: 2, retention });
    const { created: listed } = await client.createBatch({ instances: [{ id: "listed", retention }] });
    const legacy = await client.createBatch([{ id: "legacy", retention }, { id: "skipped", retention: { errorRetention: 0 } }]);
    expect(legacy.map((i) => i.id)).toEqual(["legacy"]);
    for (const instance of [...counted, ...listed, ...legacy]) await instance.terminate();
    clock.advance(HOUR);
    expect(host.storage.all()).toEqual([]);
  });
});
