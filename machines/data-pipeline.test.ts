import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, type LogRecord } from "../index";
import { dataPipeline, type PipelineParams, type TransformResult } from "./data-pipeline";
import { ORDERS_DONE } from "./data-pipeline.scenario";

const SECOND = 1000;

function start() {
  const clock = createManualClock();
  const host = createMemoryHost({ workflows: [dataPipeline], clock });
  return { clock, host, client: host.workflow<PipelineParams>("data-pipeline") };
}

const ofType = <T extends LogRecord["type"]>(history: LogRecord[], type: T) => history.filter((r) => r.type === type) as LogRecord<T>[];
const startsOf = (history: LogRecord[], key: string) => ofType(history, "step.started").filter((r) => r.data.key === key).length;

describe("data-pipeline", () => {
  it("ingests, transforms the partitions in parallel (retrying a throttled write), joins and aggregates", async () => {
    const { clock, host, client } = start();
    const instance = await client.create({ id: "orders-1", params: { source: "orders", partitions: 3 } });
    await host.idle();

    // Partitions 0 and 2 are transformed; partition 1's write was throttled and waits 5 seconds; slot 3 has no partition.
    expect(await instance.status()).toEqual({
      status: "waiting",
      value: { transforming: { p0: "done", p1: "running", p2: "done", p3: "skipped" } },
    });
    let history = await instance.history();
    expect(ofType(history, "step.attempt_failed").map((r) => ({ key: r.data.key, attempt: r.data.attempt, retryAt: r.data.retryAt, error: r.data.error.message }))).toEqual([
      { key: "transform-1#1", attempt: 1, retryAt: 5 * SECOND, error: "sink returned 503 for partition 1 (simulated transient error)" },
    ]);

    clock.advance(5 * SECOND);
    await host.idle();

    const status = await instance.status();
    expect(status).toMatchObject({
      status: "complete",
      value: "done",
      output: ORDERS_DONE,
    });

    history = await instance.history();
    expect(ofType(history, "step.succeeded").map((r) => r.data.key)).toEqual(["ingest#1", "transform-0#1", "transform-2#1", "transform-1#1", "aggregate#1"]);
    expect(ofType(history, "step.attempt_failed")).toHaveLength(1);
    expect(startsOf(history, "transform-1#1")).toBe(2);
    expect(startsOf(history, "transform-3#1")).toBe(0);
    // The three transforms started together, before any of them finished.
    const types = history.map((r) => (r.type === "step.started" || r.type === "step.succeeded" ? `${r.type} ${r.data.key}` : r.type));
    expect(types.slice(3, 6)).toEqual(["step.started transform-0#1", "step.started transform-1#1", "step.started transform-2#1"]);
    // The join waited for the retried partition: the aggregate started only after it.
    expect(types.indexOf("step.started aggregate#1")).toBeGreaterThan(types.indexOf("step.succeeded transform-1#1"));
    const retried = ofType(history, "step.succeeded").find((r) => r.data.key === "transform-1#1")!;
    expect(retried.at).toBe(5 * SECOND);
    expect(retried.data.output).toMatchObject({ partition: 1, object: "warehouse/orders/part-1.jsonl", writeId: "transform-1#1", records: 4, duplicatesDropped: 1 });
    expect(history.at(-1)).toEqual(expect.objectContaining({ type: "instance.completed", data: { output: status.output } }));
  });

  it("runs a region per partition: one partition skips three regions and never meets the throttled write; four use every region", async () => {
    const { clock, host, client } = start();
    const one = await client.create({ id: "one", params: { source: "clicks", partitions: 1 } });
    await host.idle();
    expect(await one.status()).toMatchObject({
      status: "complete",
      output: { outcome: "done", summary: { partitions: 1, records: 3, duplicatesDropped: 1, objects: ["warehouse/clicks/part-0.jsonl"] } },
    });
    const oneHistory = await one.history();
    expect(ofType(oneHistory, "step.started").map((r) => r.data.key)).toEqual(["ingest#1", "transform-0#1", "aggregate#1"]);
    expect(ofType(oneHistory, "step.attempt_failed")).toHaveLength(0);

    const four = await client.create({ id: "four", params: { source: "clicks", partitions: 4 } });
    await host.idle();
    expect(await four.status()).toMatchObject({ status: "waiting", value: { transforming: { p0: "done", p1: "running", p2: "done", p3: "done" } } });
    clock.advance(5 * SECOND);
    await host.idle();
    const status = await four.status();
    expect(status).toMatchObject({ status: "complete", output: { outcome: "done", summary: { partitions: 4, records: 3 + 4 + 5 + 6, duplicatesDropped: 4 } } });

    // The same source gives the same partition 0, byte for byte: the transform is a function of its input.
    const part0 = (history: LogRecord[]) => ofType(history, "step.succeeded").find((r) => r.data.key === "transform-0#1")!.data.output as unknown as TransformResult;
    expect(part0(await four.history())).toEqual(part0(oneHistory));
  });

  it("rejects a partition count it cannot fan out, without retrying", async () => {
    const { host, client } = start();
    const instance = await client.create({ id: "too-many", params: { source: "orders", partitions: 5 } });
    await host.idle();

    expect(await instance.status()).toEqual({
      status: "complete",
      value: "rejected",
      output: { source: "orders", outcome: "rejected", summary: null, error: { step: "ingest", message: "partitions must be an integer from 1 to 4, got 5" } },
    });
    const history = await instance.history();
    const [failure] = ofType(history, "step.attempt_failed");
    expect(failure!.data).toMatchObject({ key: "ingest#1", attempt: 1, error: { name: "NonRetryableError" } });
    expect(failure!.data.retryAt).toBeUndefined();
    expect(ofType(history, "step.failed").map((r) => r.data.key)).toEqual(["ingest#1"]);
    expect(startsOf(history, "ingest#1")).toBe(1);
  });

  it("survives a crash while a partition waits for its retry, ending as a run without the crash does", async () => {
    async function run(crash: boolean) {
      const { clock, host, client } = start();
      const instance = await client.create({ id: "orders-2", params: { source: "orders", partitions: 3 } });
      await host.idle();
      if (crash) {
        host.crash();
        expect(await instance.status()).toEqual({ status: "waiting", value: { transforming: { p0: "done", p1: "running", p2: "done", p3: "skipped" } } });
      }
      clock.advance(5 * SECOND);
      await host.idle();
      return { status: await instance.status(), history: await instance.history() };
    }

    const calm = await run(false);
    const crashed = await run(true);
    expect(crashed.status).toMatchObject({ status: "complete", output: { outcome: "done", summary: { partitions: 3, records: 12 } } });
    expect(crashed.status).toEqual(calm.status);
    const shape = (history: LogRecord[]) => history.map((r) => ({ type: r.type, at: r.at, data: r.data }));
    expect(shape(crashed.history)).toEqual(shape(calm.history));
    // No finished partition was transformed again after the crash.
    expect(startsOf(crashed.history, "transform-0#1")).toBe(1);
    expect(startsOf(crashed.history, "transform-2#1")).toBe(1);
  });
});
