import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import type { LogRecord } from "../index";
import { digest, expectedDigest } from "./stream-body";
import { until } from "./until";
import { workflows } from "./worker";

/**
 * Streamed step outputs in a Durable Object's SQLite: rows of 256 KiB in
 * their own table, kept across evictions and crashes, served again as a
 * fresh stream to run() and to subscribers.
 */
const client = () => workflows.client(env);
const ledger = () => env.RUN_LEDGER.get(env.RUN_LEDGER.idFromName("ledger"));
const objectOf = (id: string) => client().stub("streamed", id) as unknown as DurableObjectStub;

/** The stored rows, as (attempt, index, length), in order. */
async function rows(id: string): Promise<[number, number, number][]> {
  return runInDurableObject(objectOf(id), (_object, state) => {
    const table = state.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'stream_chunks'").toArray();
    if (!table.length) return [];
    return state.storage.sql
      .exec<{ attempt: number; idx: number; size: number }>("SELECT attempt, idx, LENGTH(bytes) AS size FROM stream_chunks ORDER BY attempt, idx")
      .toArray()
      .map((row) => [row.attempt, row.idx, row.size] as [number, number, number]);
  });
}

const answers = (id: string) => client().workflow("streamed").get(id).then((instance) => instance.status()).then(() => true, () => false);

it("a streamed output is kept in 256 KiB rows and, after an eviction, run() replays the same bytes without calling the step again", async () => {
  const id = "stream-evicted";
  const instance = await client().workflow("streamed").create({ id, params: { bytes: 600_000, wait: true } });
  await until(() => instance.status(), (s) => (s.value as string[]).includes("waitForEvent:go-1"), "the wait");
  expect(await rows(id)).toEqual([
    [1, 0, 262_144],
    [1, 1, 262_144],
    [1, 2, 75_712],
  ]);
  const [succeeded] = (await instance.history()).filter((r): r is LogRecord<"step.succeeded"> => r.type === "step.succeeded");
  expect(succeeded!.data).toEqual({ key: "do:download-1", attempt: 1, output: "[ReadableStream (binary): 600000 bytes]", stream: { bytes: 600_000, chunks: 3 } });

  await evictDurableObject(objectOf(id));
  await until(() => answers(id), Boolean, "the object to come back");
  await instance.sendEvent({ type: "go" });
  const status = await until(() => instance.status(), (s) => s.status === "complete", "completion");
  expect(status.output).toEqual(await expectedDigest(600_000));
  expect(await ledger().count(`${id}:download`)).toBe(1);
});

it("an object aborted while it stores a stream runs the step again; the torn attempt's rows are dropped", async () => {
  const id = "stream-torn";
  const instance = await client().workflow("streamed").create({ id, params: { bytes: 600_000, holdAfter: 300_000 } });
  await until(() => rows(id), (stored) => stored.length === 1, "the first row of the first attempt");
  expect(await rows(id)).toEqual([[1, 0, 262_144]]);
  await runInDurableObject(objectOf(id), (_object, state) => state.abort("crash injected by the test")).catch(() => undefined);
  await until(() => answers(id), Boolean, "the object to come back");
  const status = await until(() => instance.status(), (s) => s.status === "complete", "completion");
  expect(status.output).toEqual(await expectedDigest(600_000));
  expect(await ledger().count(`${id}:download`)).toBe(2);
  expect((await rows(id)).map(([attempt, index]) => [attempt, index])).toEqual([
    [2, 0],
    [2, 1],
    [2, 2],
  ]);
  await ledger().release(`${id}:download`);
});

it("subscribe() through the Worker's client delivers the output as a stream of the same bytes, read from the object row by row", async () => {
  const id = "stream-subscribed";
  const instance = await client().workflow("streamed").create({ id, params: { bytes: 300_000 } });
  await until(() => instance.status(), (s) => s.status === "complete", "completion");
  const subscription = await instance.subscribe({ filter: ["step_completed"] });
  const completed = await subscription.next();
  expect(completed.value).toMatchObject({ type: "step_completed", stepName: "download-1" });
  const output = (completed.value as { output: unknown }).output;
  expect(output).toBeInstanceOf(ReadableStream);
  expect(await digest(output as ReadableStream<Uint8Array>)).toEqual(await expectedDigest(300_000));
});

it("delete takes the rows with the instance", async () => {
  const id = "stream-deleted";
  const instance = await client().workflow("streamed").create({ id, params: { bytes: 100_000 } });
  await until(() => instance.status(), (s) => s.status === "complete", "completion");
  expect((await rows(id)).length).toBe(1);
  await instance.delete();
  expect(await rows(id)).toEqual([]);
});
