import { describe, expect, it } from "vitest";
import { inspectionEvents, type InspectionEvent } from "../core/inspection";
import { utf8Length } from "../core/json";
import type { LogRecord } from "../core/records";
import { createMemoryHost, type MemoryHost } from "../index";
import { largeEvent, listener } from "../test/large-events";
import { ticker } from "../test/ticker";
import { historyAnswer, historyRequest, INSPECT_PAGE_BYTES, INSPECT_TAIL_RECORDS, openingMessages } from "./inspection-pages";

const STEPS = 300;

async function settled(host: MemoryHost, instance: { status(): Promise<{ value?: unknown }> }, value: string) {
  for (let i = 0; i < 10_000 && (await instance.status()).value !== value; i++) await host.idle();
  expect((await instance.status()).value).toBe(value);
}

async function tickerRun(snapshotEvery = 50) {
  const host = createMemoryHost({ workflows: [ticker], snapshotEvery });
  const instance = await host.workflow("ticker").create({ id: "t1", params: { n: STEPS } });
  await settled(host, instance, "waiting");
  return { host, instance, store: host.storage.store("ticker", "t1") };
}

/** The seq of the record each event came from: event ids are `<record id>:<n>`. */
function seqOf(log: readonly LogRecord[]) {
  const seqs = new Map(log.map((r) => [r.id, r.seq]));
  return (event: InspectionEvent) => seqs.get(event.id.split(":")[0]!)!;
}

/** Pages back from `before` to the start with history requests; every answer's events, oldest first. */
function pageBack(store: Parameters<typeof historyAnswer>[1], end: number, before: number, limit = 100) {
  const pages: { before: number; from: number; events: InspectionEvent[]; bytes: number }[] = [];
  while (before > 1) {
    const request = historyRequest(JSON.stringify({ type: "history", before, limit }), end);
    if ("error" in request) throw new Error(request.error);
    const text = historyAnswer(ticker, store, request);
    const answer = JSON.parse(text) as { type: string; before: number; from: number; events: InspectionEvent[] };
    expect(answer).toMatchObject({ type: "@durable-machines.history", before });
    expect(answer.from).toBeLessThan(before);
    pages.unshift({ ...answer, bytes: utf8Length(text) });
    before = answer.from;
  }
  return pages;
}

describe("the inspection socket's messages", () => {
  it("on connect: the tail marker, the root actor with its current snapshot, the newest records' events; paging back gives the rest of the log's events, once each", async () => {
    const { host, store } = await tickerRun();
    const log = store.read();
    const whole = inspectionEvents(ticker, log);
    const seq = seqOf(log);
    const newestSnapshot = host.storage.snapshots("ticker", "t1").at(-1)!.seq;

    const { messages, stream } = openingMessages(ticker, store, log.length);
    expect(stream.seq).toBe(log.length);
    const [marker, root, ...rest] = messages.map((m) => JSON.parse(m) as InspectionEvent & { seq: number; from: number });
    expect(marker).toEqual({ type: "@durable-machines.tail", seq: log.length, from: expect.any(Number) });
    expect(marker!.from).toBeGreaterThan(newestSnapshot);
    expect(marker!.from).toBeGreaterThan(log.length - INSPECT_TAIL_RECORDS);
    expect(root).toMatchObject({ type: "@xstate.actor", sessionId: "t1", name: "ticker", snapshot: { status: "active", value: "waiting", context: { i: STEPS, n: STEPS } } });
    expect(JSON.parse(root!.type === "@xstate.actor" ? root!.definition! : "")).toMatchObject({ id: "ticker" });
    expect(rest).toEqual(whole.filter((e) => seq(e) >= marker!.from));

    const pages = pageBack(store, log.length, marker!.from);
    expect(pages[0]!.from).toBe(1);
    for (const [i, page] of pages.entries()) if (i > 0) expect(page.from).toBe(pages[i - 1]!.before);
    expect([...pages.flatMap((p) => p.events), ...rest]).toEqual(whole);
  });

  it("sends little on connect however long the log: one page of the newest events at most", async () => {
    const { store } = await tickerRun(Number.MAX_SAFE_INTEGER);
    const log = store.read();
    const { messages } = openingMessages(ticker, store, log.length);
    const marker = JSON.parse(messages[0]!) as { from: number };
    expect(marker.from).toBe(log.length - INSPECT_TAIL_RECORDS + 1);
    expect(messages.reduce((sum, m) => sum + utf8Length(m), 0)).toBeLessThan(INSPECT_PAGE_BYTES);
  });

  it("after a restart from a step, pages folded from the store give what the whole log gives", async () => {
    const { host, instance, store } = await tickerRun();
    const key = (store.read().filter((r) => r.type === "step.started")[STEPS / 2] as LogRecord<"step.started">).data.key;
    await instance.restart({ from: key });
    await settled(host, instance, "waiting");
    const log = store.read();
    const { messages } = openingMessages(ticker, store, log.length);
    const marker = JSON.parse(messages[0]!) as { from: number };
    const tail = messages.slice(2).map((m) => JSON.parse(m) as InspectionEvent);
    const pages = pageBack(store, log.length, marker.from, 1000);
    expect([...pages.flatMap((p) => p.events), ...tail]).toEqual(inspectionEvents(ticker, log));
  });

  it("keeps to the byte budget when records are large: each page holds the newest record's events at least", async () => {
    const host = createMemoryHost({ workflows: [listener] });
    const instance = await host.workflow("listener").create({ id: "big" });
    for (let i = 0; i < 4; i++) await instance.sendEvent(largeEvent(i));
    const store = host.storage.store("listener", "big");
    const end = store.read().length;
    const { messages } = openingMessages(listener, store, end);
    expect(JSON.parse(messages[0]!)).toEqual({ type: "@durable-machines.tail", seq: end, from: end });
    const answer = JSON.parse(historyAnswer(listener, store, { before: end, limit: 10 })) as { from: number; events: InspectionEvent[] };
    expect(answer.from).toBe(end - 1);
    expect(answer.events.map((e) => e.type)).toEqual(["@xstate.event", "@xstate.snapshot"]);
  });

  it("refuses anything but a history request, before parsing anything long", () => {
    for (const message of ["not json", "{}", '{"type":"other"}', '{"type":"history"}', '{"type":"history","before":0}', '{"type":"history","before":5,"limit":0}', '{"type":"history","before":"5"}', `{"type":"history","before":5,"pad":"${"x".repeat(2000)}"}`]) {
      expect(historyRequest(message, 10), message.slice(0, 40)).toHaveProperty("error");
    }
    expect(historyRequest(new ArrayBuffer(8), 10)).toHaveProperty("error");
    expect(historyRequest('{"type":"history","before":500,"limit":5000}', 10)).toEqual({ before: 11, limit: 1000 });
    expect(historyRequest('{"type":"history","before":5}', 10)).toEqual({ before: 5, limit: 100 });
  });
});
