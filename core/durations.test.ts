import { describe, it, expect } from "vitest";
import { toMilliseconds } from "./durations";
import { InvalidDurationError } from "./errors";

function expectInvalid(value: unknown) {
  let caught: unknown;
  try {
    toMilliseconds(value);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidDurationError);
  expect((caught as InvalidDurationError).code).toBe("duration.invalid");
}

describe("toMilliseconds", () => {
  it("passes numbers through as milliseconds", () => {
    expect(toMilliseconds(0)).toBe(0);
    expect(toMilliseconds(1500)).toBe(1500);
    expect(toMilliseconds(0.5)).toBe(0.5);
  });

  it.each([
    ["1 millisecond", 1],
    ["250 milliseconds", 250],
    ["1 second", 1000],
    ["10 seconds", 10_000],
    ["3 minutes", 180_000],
    ["1 hour", 3_600_000],
    ["2 hours", 7_200_000],
    ["1 day", 86_400_000],
    ["2.5 days", 216_000_000],
    ["1 week", 604_800_000],
    ["1 month", 30 * 86_400_000],
    ["1 year", 365 * 86_400_000],
  ])("reads %j as %i ms", (text, ms) => {
    expect(toMilliseconds(text)).toBe(ms);
  });

  it("ignores surrounding whitespace and case", () => {
    expect(toMilliseconds("  5 Seconds ")).toBe(5000);
    expect(toMilliseconds("1 DAY")).toBe(86_400_000);
  });

  it.each(["1 h", "5 parsecs", "10 secs", "1 s", "1 dayss", "10", "seconds", "", "1second", "1e3 seconds", "-1 second", "1.5.2 days"])(
    "refuses the string %j",
    (text) => expectInvalid(text),
  );

  it.each([-1, -0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])("refuses the number %s", (n) => expectInvalid(n));

  it.each([undefined, null, true, {}, [], ["10 seconds"], () => 10])("refuses the non-string, non-number %s", (value) => expectInvalid(value));

  it("names the bad value in its message", () => {
    expect(() => toMilliseconds("1 h")).toThrow(/"1 h" is not a duration/);
  });
});

describe("toMilliseconds refuses what only looks like a unit", () => {
  it.each(["1 constructor", "2 constructors", "1 toString", "1 __proto__"])("%j is not a duration", (text) => {
    expect(() => toMilliseconds(text)).toThrow(InvalidDurationError);
  });

  it.each([10n, (() => { const loop: Record<string, unknown> = {}; loop.self = loop; return loop; })()])("a value JSON cannot show (%s) still gets the typed error", (value) => {
    expect(() => toMilliseconds(value)).toThrow(InvalidDurationError);
  });
});
