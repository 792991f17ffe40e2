import { describe, expect, it } from "vitest";
import { utf8Length } from "../../core/json";
import { stepHistory } from "../../core/step-history";
import { MAX_PAGE_BYTES, type HistoryPage, type InstanceHandle } from "../../runtime/client";
import { logPages } from "../../runtime/history-pages";
import { readStepHistory } from "../../runtime/read-step-history";
import { recordBytes } from "../../runtime/store";
import { largeEvent, LARGE_EVENTS, listener } from "../../test/large-events";
import { createMemoryHost, DurableMachinesError } from "../../index";

async function largeLog() {
  const host = createMemoryHost({ workflows: [listener] });
  const instance = await host.workflow("listener").create({ id: "large" });
  for (let i = 0; i < LARGE_EVENTS; i++) await instance.sendEvent(largeEvent(i));
  await instance.sendEvent({ type: "stop" });
  expect((await instance.status()).status).toBe("complete");
  return { host, instance, log: host.storage.store("listener", "large").read() };
}

async function everyPage(instance: InstanceHandle): Promise<HistoryPage[]> {
  const pages: HistoryPage[] = [];
  let after = 0;
  for (;;) {
    const page = await instance.historyPage({ after });
    pages.push(page);
    if (page.next === undefined) return pages;
    after = page.next;
  }
}

describe("the log read in pages bounded by bytes", () => {
  it("40 accepted events of about 1 MiB come back in pages of at most 4 MiB, with next on every page but the last", async () => {
    const { instance, log } = await largeLog();
    expect(log.filter((r) => r.type === "event.received")).toHaveLength(LARGE_EVENTS + 1);

    const pages = await everyPage(instance);
    expect(pages.length).toBeGreaterThanOrEqual(LARGE_EVENTS / 4);
    for (const page of pages) {
      expect(page.records.length).toBeGreaterThan(0);
      expect(utf8Length(JSON.stringify(page.records))).toBeLessThanOrEqual(MAX_PAGE_BYTES);
    }
    for (const page of pages.slice(0, -1)) expect(page.next).toBe(page.records.at(-1)!.seq);
    expect(pages.at(-1)!.next).toBeUndefined();
    expect(pages.flatMap((p) => p.records)).toEqual(log);

    expect(await instance.history()).toEqual(pages[0]!.records);
    expect(await instance.historyPage({ after: log.length })).toEqual({ records: [] });
    const chunks: number[][] = [];
    for await (const page of logPages(instance)) chunks.push(page.map((r) => r.seq));
    expect(chunks).toEqual(pages.map((p) => p.records.map((r) => r.seq)));
  });

  it("a page that ends exactly at the end of the log has no next; limit still counts records", async () => {
    const { instance, log } = await largeLog();
    const small = await instance.historyPage({ after: log.length - 3, limit: 3 });
    expect(small.records.map((r) => r.seq)).toEqual([log.length - 2, log.length - 1, log.length]);
    expect(small.next).toBeUndefined();
    expect(await instance.historyPage({ after: log.length - 4, limit: 3 })).toMatchObject({ next: log.length - 1 });
  });

  it("subscribe() reads the large log through and ends with the run", async () => {
    const { instance } = await largeLog();
    const subscription = await instance.subscribe();
    const types: string[] = [];
    for (let next = await subscription.next(); !next.done; next = await subscription.next()) types.push(next.value.type);
    expect(types.at(-1)).toBe("workflow_completed");
  });

  it("the step history read a page at a time lists every event with its payload, as the whole log gives it", async () => {
    const { instance, log } = await largeLog();
    const steps = await readStepHistory(instance, () => listener);
    expect(steps.map((s) => s.key)).toEqual([...Array.from({ length: LARGE_EVENTS }, (_, i) => `note#${i + 1}`), "stop#1"]);
    expect(steps[7]!.output).toEqual(largeEvent(7).payload);
    expect(steps).toEqual(stepHistory(log, listener));
  });

  it("refuses a page range that is not whole numbers, with history.invalid_range", async () => {
    const { instance } = await largeLog();
    for (const range of [{ limit: 0 }, { limit: 1.5 }, { after: -1 }, { after: Number.NaN }, { limit: "10" as unknown as number }]) {
      const error = await instance.historyPage(range).then(() => undefined, (e: unknown) => e);
      expect(error, JSON.stringify(range)).toBeInstanceOf(DurableMachinesError);
      expect((error as DurableMachinesError).code).toBe("history.invalid_range");
    }
    expect((await instance.historyPage({ limit: 5000 })).records.length).toBeLessThanOrEqual(1000);
  });
});

describe("the memory store's byte budget", () => {
  it("stops before the record that would pass it, and gives the first record whatever its size", async () => {
    const { host, log } = await largeLog();
    const store = host.storage.store("listener", "large");
    const sizes = log.map((r) => recordBytes(JSON.stringify(r.data)));
    expect(store.read({ after: 1, bytes: 1 })).toEqual([log[1]]);
    expect(store.read({ after: 1, bytes: sizes[1]! + sizes[2]! })).toEqual([log[1], log[2]]);
    expect(store.read({ after: 1, bytes: sizes[1]! + sizes[2]! - 1 })).toEqual([log[1]]);
  });
});
