import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { beforeAll, expect, it } from "vitest";
import { utf8Length } from "../core/json";
import type { LogRecord } from "../core/records";
import { MAX_PAGE_BYTES, type HistoryPage, type InstanceHandle } from "../runtime/client";
import { readStepHistory } from "../runtime/read-step-history";
import { SqlInstanceStore } from "../adapters/durable-object/sql-store";
import { recordBytes } from "../runtime/store";
import { largeEvent, LARGE_EVENTS, listener } from "./large-events";
import { workflows } from "./worker";

/**
 * Issue 13: 40 accepted events of about 1 MiB made every read of the
 * instance fail with workerd's 32 MiB limit on one RPC answer. Every read
 * now crosses in pages of at most 4 MiB.
 */
const worker = (exports as unknown as { default: Fetcher }).default;
const client = () => workflows.client(env);
const id = "large-events";
let instance: InstanceHandle;

beforeAll(async () => {
  instance = await client().workflow("listener").create({ id });
  for (let i = 0; i < LARGE_EVENTS; i++) await instance.sendEvent(largeEvent(i));
  await instance.sendEvent({ type: "stop" });
  expect((await instance.status()).status).toBe("complete");
}, 120_000);

async function everyPage(): Promise<HistoryPage[]> {
  const pages: HistoryPage[] = [];
  for (let after: number | undefined = 0; after !== undefined; ) {
    const page: HistoryPage = await instance.historyPage({ after });
    pages.push(page);
    after = page.next;
  }
  return pages;
}

it("history pages of 40 accepted events of about 1 MiB each stay within 4 MiB, and next is absent exactly on the last", async () => {
  const pages = await everyPage();
  const records = pages.flatMap((p) => p.records);
  expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
  expect(records.filter((r) => r.type === "event.received")).toHaveLength(LARGE_EVENTS + 1);
  expect(records.at(-1)!.type).toBe("instance.completed");
  for (const page of pages) {
    expect(page.records.length).toBeGreaterThan(0);
    expect(utf8Length(JSON.stringify(page.records))).toBeLessThanOrEqual(MAX_PAGE_BYTES);
  }
  for (const page of pages.slice(0, -1)) expect(page.next).toBe(page.records.at(-1)!.seq);
  expect(pages.at(-1)!.next).toBeUndefined();
  expect(await instance.historyPage({ after: records.length })).toEqual({ records: [] });
  expect(await instance.history()).toEqual(pages[0]!.records);
});

it("subscribe() reads the whole log through and ends with the run", async () => {
  const subscription = await instance.subscribe();
  const types: string[] = [];
  for (let next = await subscription.next(); !next.done; next = await subscription.next()) types.push(next.value.type);
  expect(types.at(-1)).toBe("workflow_completed");
});

it("the step history, read a page at a time, lists every event with its payload", async () => {
  const steps = await readStepHistory(instance, () => listener);
  expect(steps).toHaveLength(LARGE_EVENTS + 1);
  expect(steps[LARGE_EVENTS - 1]!.output).toEqual(largeEvent(LARGE_EVENTS - 1).payload);
});

it("the SSE route streams the instance's events to the end", async () => {
  const response = await worker.fetch(new Request(`https://example.com/api/workflows/listener/instances/${id}/events`, { headers: { authorization: "Bearer test-token" } }));
  expect(response.status).toBe(200);
  const events = (await response.text()).split("\n\n").filter(Boolean).map((message) => JSON.parse(message.split("\ndata: ")[1]!) as { type: string });
  expect(events.at(-1)!.type).toBe("workflow_completed");
});

it("the steps route answers with every event as a step, a page of at most 4 MiB at a time", async () => {
  const steps: { key: string; output?: unknown }[] = [];
  for (let after: number | undefined = 0; after !== undefined; ) {
    const response = await worker.fetch(new Request(`https://example.com/api/workflows/listener/instances/${id}/steps?after=${after}`, { headers: { authorization: "Bearer test-token" } }));
    expect(response.status).toBe(200);
    const page = (await response.json()) as { steps: { key: string; output?: unknown }[]; next?: number };
    expect(utf8Length(JSON.stringify(page.steps))).toBeLessThanOrEqual(MAX_PAGE_BYTES);
    steps.push(...page.steps);
    after = page.next;
  }
  expect(steps.map((s) => s.key)).toEqual([...Array.from({ length: LARGE_EVENTS }, (_, i) => `note#${i + 1}`), "stop#1"]);
  expect(steps[0]!.output).toEqual(largeEvent(0).payload);
});

it("the history route pages the large log", async () => {
  const seqs: number[] = [];
  for (let after: number | undefined = 0; after !== undefined; ) {
    const response = await worker.fetch(new Request(`https://example.com/api/workflows/listener/instances/${id}/history?after=${after}`, { headers: { authorization: "Bearer test-token" } }));
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(utf8Length(text)).toBeLessThanOrEqual(MAX_PAGE_BYTES);
    const { records, next } = JSON.parse(text) as { records: LogRecord[]; next?: number };
    seqs.push(...records.map((r) => r.seq));
    after = records.length ? next : undefined;
  }
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  expect(seqs.length).toBeGreaterThan(LARGE_EVENTS);
});

it("the SQLite store stops before the record that would pass the byte budget, and gives the first whatever its size", async () => {
  const stub = client().stub("listener", id) as unknown as DurableObjectStub;
  await runInDurableObject(stub, (_object, state) => {
    const store = new SqlInstanceStore(state.storage.sql);
    const log = store.read({ limit: 4 });
    const sizes = log.map((r) => recordBytes(JSON.stringify(r.data)));
    expect(store.read({ after: 1, bytes: 1 })).toEqual([log[1]]);
    expect(store.read({ after: 1, bytes: sizes[1]! + sizes[2]! })).toEqual([log[1], log[2]]);
    expect(store.read({ after: 1, bytes: sizes[1]! + sizes[2]! - 1 })).toEqual([log[1]]);
    expect(store.read({ after: 1, limit: 2, bytes: Number.MAX_SAFE_INTEGER })).toEqual([log[1], log[2]]);
  });
});
