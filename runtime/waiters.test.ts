import { describe, expect, it } from "vitest";
import { createManualClock } from "../adapters/memory/manual-clock";
import { Waiters } from "./waiters";

describe("a long poll's waiting room", () => {
  it("a waiter settles when woken or at its deadline, and one that timed out takes no later wake from a live one", async () => {
    const clock = createManualClock(0);
    const waiters = new Waiters(clock);
    const settled: string[] = [];
    const early = waiters.until(10).then(() => settled.push("early"));
    const late = waiters.until(100).then(() => settled.push("late"));
    clock.advance(10);
    await early;
    expect(settled).toEqual(["early"]);
    waiters.wakeOne();
    await late;
    expect(settled).toEqual(["early", "late"]);
  });

  it("wakeAll wakes every waiter, in arrival order, and leaves the room empty", async () => {
    const clock = createManualClock(0);
    const waiters = new Waiters(clock);
    const settled: number[] = [];
    const all = Promise.all([1, 2, 3].map((n) => waiters.until(1_000).then(() => settled.push(n))));
    waiters.wakeAll();
    await all;
    expect(settled).toEqual([1, 2, 3]);
    let woken = false;
    const next = waiters.until(5).then(() => (woken = true));
    waiters.wakeOne();
    await next;
    expect(woken).toBe(true);
  });
});
