import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { fold } from "../core/fold";
import { machineInstant } from "../core/time-travel";
import { SqlInstanceStore } from "../adapters/durable-object/sql-store";
import { listener } from "./large-events";
import { until } from "./until";
import { workflows } from "./worker";

/**
 * Time travel on the Durable Object host: the instance object folds a prefix
 * of its log beside it (its newest snapshot at or before the seq, then the
 * tail; the test Worker snapshots every 2 inputs) and answers over RPC, and
 * through the HTTP route. Each answer is checked against folding the first
 * seq records from scratch, here in the test.
 */
const worker = (exports as unknown as { default: Fetcher }).default;
const client = () => workflows.client(env);
const NOTES = 12;

it("answers the state after every record, as folding that prefix from scratch gives it, from the object's snapshots and the tail", async () => {
  const instance = await client().workflow("listener").create({ id: "travelled" });
  for (let i = 0; i < NOTES; i++) await instance.sendEvent({ type: "note" });
  await instance.sendEvent({ type: "stop" });
  const log = await instance.history();
  expect(log.at(-1)!.type).toBe("instance.completed");
  const snapshots = await runInDurableObject(client().stub("listener", "travelled") as unknown as DurableObjectStub, (_object, state) => {
    const store = new SqlInstanceStore(state.storage.sql);
    return log.map((record) => store.snapshot(record.seq + 1)?.seq ?? 0);
  });
  // The folds below start from snapshots, not all from the log's start.
  expect(new Set(snapshots).size).toBeGreaterThan(2);
  for (const record of log) {
    const travelled = await instance.stateAfter(record.seq);
    expect(travelled, `after seq ${record.seq}`).toEqual(machineInstant(fold(listener, log.slice(0, record.seq))));
    expect(travelled).toMatchObject({ kind: "machine", seq: record.seq, context: { notes: log.slice(0, record.seq).filter((r) => r.type === "event.received" && r.data.type === "note").length } });
  }
  const last = await instance.stateAfter(log.length);
  const { status, value, output } = await instance.status();
  expect({ status: last.status, value: (last as { value: unknown }).value, output: last.output }).toEqual({ status, value, output });
});

it("serves GET …/state?after= and refuses a seq the log does not have with history.invalid_range", async () => {
  const instance = await client().workflow("listener").create({ id: "travelled-http" });
  await instance.sendEvent({ type: "note" });
  await until(() => instance.history(), (log) => log.length === 2, "the note in the log");
  const get = async (query: string) => {
    const response = await worker.fetch(`https://example.com/api/workflows/listener/instances/travelled-http/state${query}`, { headers: { authorization: `Bearer ${env.API_TOKEN}` } });
    return { status: response.status, body: (await response.json()) as { kind?: string; context?: unknown; error?: { code: string } } };
  };
  expect(await get("?after=2")).toMatchObject({ status: 200, body: { kind: "machine", seq: 2, status: "waiting", value: "listening", context: { notes: 1 } } });
  expect(await get("?after=1")).toMatchObject({ status: 200, body: { context: { notes: 0 } } });
  for (const query of ["?after=3", "?after=0", "?after=x", ""]) expect(await get(query), query).toMatchObject({ status: 400, body: { error: { code: "history.invalid_range" } } });
  await expect(instance.stateAfter(3)).rejects.toMatchObject({ code: "history.invalid_range" });
});
