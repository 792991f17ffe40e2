import { describe, expect, it } from "vitest";
import { statusCounts } from "./client";
import { ChangeQueue, MAX_UNREAD_CHANGES } from "./change-queue";
import type { WorkflowChange } from "./workflow-watch";

const created = (n: number): WorkflowChange => ({
  type: "created",
  instance: { id: `i${n}`, status: "running", createdAt: n, updatedAt: n },
  counts: { ...statusCounts({}), running: n },
});

async function drain(queue: ChangeQueue, count: number): Promise<WorkflowChange[]> {
  const read: WorkflowChange[] = [];
  for (let i = 0; i < count; i++) read.push((await queue.next()).value as WorkflowChange);
  return read;
}

describe("a watch's unread changes", () => {
  it(`are given in order up to ${MAX_UNREAD_CHANGES}; past that they give way to one sync with the newest counts, and what follows it is kept`, async () => {
    const queue = new ChangeQueue(() => {});
    for (let n = 1; n <= MAX_UNREAD_CHANGES; n++) queue.push(created(n));
    expect(await drain(queue, MAX_UNREAD_CHANGES)).toEqual(Array.from({ length: MAX_UNREAD_CHANGES }, (_, i) => created(i + 1)));

    for (let n = 1; n <= MAX_UNREAD_CHANGES + 5; n++) queue.push(created(n));
    const overflow = MAX_UNREAD_CHANGES + 1;
    expect(await drain(queue, 5)).toEqual([{ type: "sync", counts: created(overflow).counts }, ...[2, 3, 4, 5].map((k) => created(MAX_UNREAD_CHANGES + k))]);
  });

  it("wakes a waiting reader; once disposed, ends and tells its host once", async () => {
    let disposed = 0;
    const queue = new ChangeQueue(() => disposed++);
    const waiting = queue.next();
    queue.push(created(1));
    expect(await waiting).toEqual({ done: false, value: created(1) });
    const ending = queue.next();
    queue[Symbol.dispose]();
    queue[Symbol.dispose]();
    expect(await ending).toEqual({ done: true, value: undefined });
    queue.push(created(2));
    expect(await queue.next()).toEqual({ done: true, value: undefined });
    expect(disposed).toBe(1);
  });

  it("gives what was read before a failure, then rejects with it; a for-await loop that breaks disposes", async () => {
    const queue = new ChangeQueue(() => {});
    queue.push(created(1));
    queue.fail(new Error("registry gone"));
    expect((await queue.next()).value).toEqual(created(1));
    await expect(queue.next()).rejects.toThrow("registry gone");

    let disposed = false;
    const looped = new ChangeQueue(() => (disposed = true));
    looped.push(created(1));
    for await (const change of looped) {
      expect(change).toEqual(created(1));
      break;
    }
    expect(disposed).toBe(true);
  });
});
