import { describe, expect, it } from "vitest";
import type { LogRecord } from "../../core/records";
import type { Api } from "../api";
import { LogRecords, READ_RECORDS } from "../log-records";

/** A log of `length` records and the API's records() over it, which fails a test if two reads ever overlap. */
function fakeLog(length: number) {
  const log: LogRecord[] = [];
  const write = (count: number) => {
    for (let i = 0; i < count; i++) {
      const seq = log.length + 1;
      log.push((seq === 1 ? { seq, at: seq, type: "instance.created", data: { params: null } } : { seq, at: seq, type: "event.received", data: { type: "tick" } }) as unknown as LogRecord);
    }
  };
  write(length);
  let reading = 0;
  const reads: { after: number; limit: number | undefined }[] = [];
  const api = {
    async records(_workflow: string, _id: string, after: number, limit?: number) {
      expect(reading, "two reads at once").toBe(0);
      reading++;
      reads.push({ after, limit });
      await new Promise((resolve) => setTimeout(resolve, 0));
      reading--;
      return log.filter((record) => record.seq > after).slice(0, limit);
    },
  } as unknown as Api;
  return { api, write, reads };
}

/** The log's records, read: resolves once the background reading has stopped. */
function holder(api: Api) {
  let settled: () => void = () => {};
  const records = new LogRecords(api, "w", "i", () => {
    if (!records.reading) settled();
  }, (error) => {
    throw error;
  });
  const done = () => new Promise<void>((resolve) => (settled = resolve));
  return { records, done };
}

const seqs = (records: LogRecords) => [records.first, records.last, records.records.length];

describe("LogRecords: the log a page holds", () => {
  it("reads the newest page first, then older pages, up to READ_RECORDS, and no further on its own", async () => {
    const { api, reads } = fakeLog(25_000);
    const { records, done } = holder(api);
    const finished = done();
    await records.start(25_000);
    expect(seqs(records)).toEqual([24_001, 25_000, 1000]);
    expect(records.created?.type).toBe("instance.created");
    await finished;
    expect(seqs(records)).toEqual([25_001 - READ_RECORDS, 25_000, READ_RECORDS]);
    expect(records.complete).toBe(false);
    // Every record read once: no page overlaps another.
    expect(reads.filter((read) => read.limit !== 1).length).toBe(READ_RECORDS / 1000);
    expect(records.records.every((record, i) => i === 0 || record.seq === records.records[i - 1]!.seq + 1)).toBe(true);
  });

  it("holds a short log whole, from its creation", async () => {
    const { api } = fakeLog(1_500);
    const { records, done } = holder(api);
    const finished = done();
    await records.start(1_500);
    await finished;
    expect(seqs(records)).toEqual([1, 1_500, 1_500]);
    expect(records.complete).toBe(true);
    expect(records.at(700)?.seq).toBe(700);
    expect(records.at(1_501)).toBeUndefined();
  });

  it("follows new records, letting the oldest go past READ_RECORDS, but keeps what the reader asked for", async () => {
    const { api, write } = fakeLog(12_000);
    const { records, done } = holder(api);
    const finished = done();
    await records.start(12_000);
    await finished;
    write(5);
    await records.loadNewer();
    expect(seqs(records)).toEqual([2_006, 12_005, READ_RECORDS]);

    await records.readBackTo(40);
    expect(records.first).toBe(40);
    write(5);
    await records.loadNewer();
    expect(seqs(records)).toEqual([40, 12_010, 11_971]);
    expect((await records.one(3))?.seq).toBe(3);
    expect(await records.one(99_999)).toBeUndefined();
  });
});
