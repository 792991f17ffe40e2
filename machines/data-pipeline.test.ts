import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, type LogRecord } from "../index";
import { dataPipeline, type PipelineOutput, type PipelineParams, type TransformResult } from "./data-pipeline";
import { ORDERS, ORDERS_DONE, ORDERS_SUCCEEDED, THROTTLED, THROTTLED_KEY } from "./data-pipeline.scenario";

const SECOND = 1000;

function start() {
  const clock = createManualClock();
  const host = createMemoryHost({ workflows: [dataPipeline], clock });
  return { clock, host, client: host.workflow("data-pipeline") };
}

const ofType = <T extends LogRecord["type"]>(history: LogRecord[], type: T) => history.filter((r) => r.type === type) as LogRecord<T>[];
const startsOf = (history: LogRecord[], key: string) => ofType(history, "step.started").filter((r) => r.data.key === key).length;
const succeeded = (history: LogRecord[]) => ofType(history, "step.succeeded").map((r) => `${r.data.key}@${r.data.attempt}`);
const transforms = (history: LogRecord[]) => ofType(history, "step.succeeded").filter((r) => r.data.key.startsWith("transform.")).map((r) => r.data.output as unknown as TransformResult);

/** The most transforms running at once, from the log: each starts with its first attempt and ends with its success. */
function mostAtOnce(history: LogRecord[]): number {
  let running = 0;
  let most = 0;
  for (const r of history) {
    if (r.type === "step.started" && r.data.key.startsWith("transform.") && r.data.attempt === 1) most = Math.max(most, ++running);
    if (r.type === "step.succeeded" && r.data.key.startsWith("transform.")) running--;
  }
  return most;
}

describe("data-pipeline", () => {
  it("ingests, transforms the partitions two at a time (retrying a throttled write on its own), joins and publishes", async () => {
    const { clock, host, client } = start();
    const instance = await client.create({ id: "orders-1", params: ORDERS });
    await host.idle();

    // Partitions 0 and 2 went through slot 0; partition 1's write was throttled and waits 5 seconds in slot 1.
    expect(await instance.status()).toEqual({ status: "waiting", value: THROTTLED });
    let history = await instance.history();
    expect(ofType(history, "step.attempt_failed").map((r) => ({ key: r.data.key, attempt: r.data.attempt, retryAt: r.data.retryAt, error: r.data.error.message }))).toEqual([
      { key: THROTTLED_KEY, attempt: 1, retryAt: 5 * SECOND, error: "sink returned 503 for partition 1 (simulated transient error)" },
    ]);
    expect(startsOf(history, "join#1")).toBe(0);

    clock.advance(5 * SECOND);
    await host.idle();

    const status = await instance.status();
    expect(status).toMatchObject({ status: "complete", value: { ingest: "done", transform: "done", join: "done", publish: "done" }, output: ORDERS_DONE });
    expect(Number.isInteger((status.output as unknown as PipelineOutput).summary.checksum)).toBe(true);

    history = await instance.history();
    expect(succeeded(history)).toEqual(ORDERS_SUCCEEDED);
    expect(ofType(history, "step.attempt_failed")).toHaveLength(1);
    expect(startsOf(history, THROTTLED_KEY)).toBe(2);
    expect(mostAtOnce(history)).toBe(2);
    // The join waited for the retried partition, and publishing for the join.
    const seq = (type: string, key: string) => history.findLast((r) => r.type === type && "key" in r.data && r.data.key === key)!.seq;
    expect(seq("step.started", "join#1")).toBeGreaterThan(seq("step.succeeded", THROTTLED_KEY));
    expect(seq("step.started", "publish#1")).toBeGreaterThan(seq("step.succeeded", "join#1"));
    const retried = ofType(history, "step.succeeded").find((r) => r.data.key === THROTTLED_KEY)!;
    expect(retried.at).toBe(5 * SECOND);
    expect(retried.data.output).toMatchObject({ partition: 1, object: "warehouse/orders/part-1.jsonl", writeId: THROTTLED_KEY, records: 4, duplicatesDropped: 1 });
    // The join's output is the summary reported, and the publication names the manifest.
    expect(ofType(history, "step.succeeded").find((r) => r.data.key === "join#1")!.data.output).toEqual((status.output as unknown as PipelineOutput).summary);
    expect(ofType(history, "step.succeeded").at(-1)!.data.output).toMatchObject({ manifest: ORDERS_DONE.manifest, publishId: "publish#1" });
    expect(history.at(-1)).toEqual(expect.objectContaining({ type: "instance.completed", data: { output: status.output } }));
  });

  it("one partition takes one transform; eight go through both slots in turn and come back in partition order", async () => {
    const { clock, host, client } = start();
    const one = await client.create({ id: "one", params: { source: "clicks", partitions: 1 } });
    await host.idle();
    expect(await one.status()).toMatchObject({
      status: "complete",
      output: { summary: { partitions: 1, records: 3, duplicatesDropped: 1, objects: ["warehouse/clicks/part-0.jsonl"] }, manifest: "warehouse/clicks/_manifest.json" },
    });
    const oneHistory = await one.history();
    expect(ofType(oneHistory, "step.started").map((r) => r.data.key)).toEqual(["ingest#1", "transform.slot0#1", "join#1", "publish#1"]);
    expect(ofType(oneHistory, "step.attempt_failed")).toHaveLength(0);

    const eight = await client.create({ id: "eight", params: { source: "clicks", partitions: 8 } });
    await host.idle();
    clock.advance(5 * SECOND);
    await host.idle();
    const status = await eight.status();
    const objects = Array.from({ length: 8 }, (_, p) => `warehouse/clicks/part-${p}.jsonl`);
    expect(status).toMatchObject({ status: "complete", output: { summary: { partitions: 8, records: 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10, duplicatesDropped: 8, objects } } });
    const history = await eight.history();
    expect(mostAtOnce(history)).toBe(2);
    expect(new Set(transforms(history).map((t) => t.writeId.split("#")[0]))).toEqual(new Set(["transform.slot0", "transform.slot1"]));
    // Finished out of order (partition 1 last), handed to the join in partition order.
    expect(transforms(history).map((t) => t.partition).at(-1)).toBe(1);

    // The same source gives the same partition 0, byte for byte: the transform is a function of its input.
    const part0 = (h: LogRecord[]) => transforms(h).find((t) => t.partition === 0);
    expect(part0(history)).toEqual(part0(oneHistory));
  });

  it("fails at once, without retrying or transforming anything, on a partition count it cannot fan out or on missing params", async () => {
    const { host, client } = start();
    for (const [id, params, message] of [
      ["too-many", { source: "orders", partitions: 9 }, "partitions must be an integer from 1 to 8, got 9"],
      ["no-params", undefined, 'data-pipeline needs params like {"source": "orders", "partitions": 3}'],
    ] as const) {
      const instance = await client.create({ id, params: params as PipelineParams | undefined });
      await host.idle();
      expect(await instance.status()).toMatchObject({ status: "errored", error: { name: "NonRetryableError", message } });
      const history = await instance.history();
      expect(ofType(history, "step.started").map((r) => `${r.data.key}@${r.data.attempt}`)).toEqual(["ingest#1@1"]);
      expect(ofType(history, "step.failed").map((r) => r.data.key)).toEqual(["ingest#1"]);
      expect(ofType(history, "step.attempt_failed")[0]!.data.retryAt).toBeUndefined();
    }
  });

  it("survives a crash while a partition waits for its retry, ending as a run without the crash does", async () => {
    async function run(crash: boolean) {
      const { clock, host, client } = start();
      const instance = await client.create({ id: "orders-2", params: ORDERS });
      await host.idle();
      if (crash) {
        host.crash();
        expect(await instance.status()).toEqual({ status: "waiting", value: THROTTLED });
      }
      clock.advance(5 * SECOND);
      await host.idle();
      return { status: await instance.status(), history: await instance.history() };
    }

    const calm = await run(false);
    const crashed = await run(true);
    expect(crashed.status).toMatchObject({ status: "complete", output: ORDERS_DONE });
    expect(crashed.status).toEqual(calm.status);
    const shape = (history: LogRecord[]) => history.map((r) => ({ type: r.type, at: r.at, data: r.data }));
    expect(shape(crashed.history)).toEqual(shape(calm.history));
    // No partition recorded before the crash was transformed again.
    expect(startsOf(crashed.history, "transform.slot0#1")).toBe(1);
    expect(startsOf(crashed.history, "transform.slot0#2")).toBe(1);
  });
});
