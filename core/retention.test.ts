import { describe, expect, it } from "vitest";
import { InvalidRetentionError } from "./errors";
import { DEFAULT_RETENTION, expiresAt, resolveRetention } from "./retention";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("resolveRetention", () => {
  it("defaults to 30 days for both outcomes, or to the fallback given", () => {
    expect(resolveRetention(undefined)).toEqual({ successMs: 30 * DAY, errorMs: 30 * DAY });
    expect(resolveRetention({})).toEqual(DEFAULT_RETENTION);
    expect(resolveRetention({ errorRetention: "1 day" }, { successMs: 5, errorMs: 6 })).toEqual({ successMs: 5, errorMs: DAY });
  });

  it("takes whole milliseconds above 0 and duration strings, as Cloudflare does", () => {
    expect(resolveRetention({ successRetention: 1, errorRetention: "2 hours" })).toEqual({ successMs: 1, errorMs: 2 * HOUR });
    expect(resolveRetention({ successRetention: "1 week", errorRetention: "1.5 seconds" })).toEqual({ successMs: 7 * DAY, errorMs: 1500 });
  });

  it.each([
    [null, "must be an object"],
    ["7 days", "must be an object"],
    [[], "must be an object"],
    [{ successRetention: 0 }, "successRetention 0 is not a duration above 0"],
    [{ successRetention: -5 }, "successRetention -5"],
    [{ errorRetention: 1.5 }, "errorRetention 1.5"],
    [{ errorRetention: Number.NaN }, "errorRetention"],
    [{ errorRetention: "1 h" }, 'errorRetention "1 h"'],
    [{ errorRetention: "0 seconds" }, 'errorRetention "0 seconds"'],
    [{ errorRetention: "soon" }, 'errorRetention "soon"'],
    [{ successRetention: true }, "successRetention true"],
    [{ successRetention: "101 years" }, "longer than 100 years"],
    [{ sucessRetention: "1 day" }, 'no option "sucessRetention"'],
  ])("refuses %j", (options, problem) => {
    let caught: unknown;
    try {
      resolveRetention(options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidRetentionError);
    expect((caught as InvalidRetentionError).code).toBe("retention.invalid");
    expect((caught as InvalidRetentionError).message).toContain(problem);
  });
});

describe("expiresAt", () => {
  it("counts successRetention after completing, errorRetention after erroring or a terminate", () => {
    const retention = { successMs: 10, errorMs: 20 };
    expect(expiresAt({ status: "complete" }, 100, retention)).toBe(110);
    expect(expiresAt({ status: "errored", error: { name: "Error", message: "no" } }, 100, retention)).toBe(120);
    expect(expiresAt({ status: "terminated" }, 100, retention)).toBe(120);
  });
});
