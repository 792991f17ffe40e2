import { describe, expect, it } from "vitest";
import { MAX_PAYLOAD_BYTES, utf8Length } from "../core/json";
import type { HistoryStep } from "../core/step-history";
import { MAX_PAGE_BYTES } from "./client";
import { stepHistoryPage } from "./read-step-history";

const stepWith = (i: number, output: string): HistoryStep => ({ key: `do:s-${i}`, name: "s", count: i, kind: "do", start: i, startSeq: i, success: true, attempts: [], output, restartable: true });

describe("a page of a step history", () => {
  it("holds at most 4 MiB of steps, always one, and says where the next page starts only when one follows", () => {
    const big = "x".repeat(MAX_PAYLOAD_BYTES - 200);
    const steps = Array.from({ length: 10 }, (_, i) => stepWith(i + 1, big));
    const pages = [];
    for (let after: number | undefined = 0; after !== undefined; ) {
      const page = stepHistoryPage(steps, after, 1000);
      expect(page.steps.length).toBeGreaterThan(0);
      expect(utf8Length(JSON.stringify(page.steps))).toBeLessThanOrEqual(MAX_PAGE_BYTES);
      pages.push(page);
      after = page.next;
    }
    expect(pages.map((p) => p.steps.length)).toEqual([4, 4, 2]);
    expect(pages.map((p) => p.next)).toEqual([4, 8, undefined]);
    expect(pages.flatMap((p) => p.steps)).toEqual(steps);
  });

  it("gives a step bigger than the budget a page of its own", () => {
    const steps = [stepWith(1, "x".repeat(MAX_PAGE_BYTES)), stepWith(2, "small")];
    expect(stepHistoryPage(steps, 0, 1000)).toEqual({ steps: [steps[0]], next: 1 });
    expect(stepHistoryPage(steps, 1, 1000)).toEqual({ steps: [steps[1]] });
  });

  it("stops at the limit, and past the end is empty", () => {
    const steps = Array.from({ length: 5 }, (_, i) => stepWith(i + 1, "o"));
    expect(stepHistoryPage(steps, 1, 2)).toEqual({ steps: steps.slice(1, 3), next: 3 });
    expect(stepHistoryPage(steps, 5, 2)).toEqual({ steps: [] });
  });
});
