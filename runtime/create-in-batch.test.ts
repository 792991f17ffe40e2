import { describe, expect, it } from "vitest";
import { createInBatch, MAX_BATCH, type InstanceHandle } from "./client";

/** A create that must never be reached: every batch here is refused before anything is made. */
const neverCreates = async (): Promise<InstanceHandle> => {
  throw new Error("create was called for a batch that should have been refused");
};

describe("createInBatch checks every size before it allocates", () => {
  it("refuses a count of a billion at once, as batch.invalid, without building the billion entries", async () => {
    const started = performance.now();
    await expect(createInBatch({ count: 1_000_000_000 }, neverCreates)).rejects.toMatchObject({ code: "batch.invalid" });
    // Building the entries first took 75 s and 939 MB; checked first, the refusal is immediate.
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("refuses a count no array can hold with batch.invalid, not the RangeError of allocating it", async () => {
    await expect(createInBatch({ count: 2 ** 32 }, neverCreates)).rejects.toMatchObject({ code: "batch.invalid" });
  });

  it("refuses every count outside 1 to the maximum, and every count that is not a whole number", async () => {
    for (const count of [0, -1, MAX_BATCH + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "3", null]) {
      await expect(createInBatch({ count }, neverCreates), String(count)).rejects.toMatchObject({ code: "batch.invalid" });
    }
  });
});

describe("createInBatch refuses what is not a batch with batch.invalid", () => {
  it("a string, a number, true or null, rather than throwing a TypeError", async () => {
    for (const input of ["count", 7, true, null, undefined]) {
      await expect(createInBatch(input, neverCreates), String(input)).rejects.toMatchObject({ code: "batch.invalid" });
    }
  });
});
