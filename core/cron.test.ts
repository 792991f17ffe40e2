import { describe, expect, it } from "vitest";
import { cronProblem, normalizeCron } from "./cron";

describe("cron expressions Cloudflare's Cron Triggers accept", () => {
  it.each([
    "* * * * *",
    "*/5 * * * *",
    "*/30 * * * *",
    "45 * * * *",
    "0 17 * * sun",
    "0 17 * * 1",
    "10 7 * * mon-fri",
    "10 7 * * 2-6",
    "0 15 1 * *",
    "0 18 * * 6L",
    "0 18 * * friL",
    "59 23 LW * *",
    "0 9 L * *",
    "0 9 L-3 * *",
    "0 9 15W * *",
    "0 10 * * MON#2",
    "*/10 9-17 * * MON-FRI",
    "0 0 1 JAN,jul *",
    "5-55/10 0,12 1-15/2 */3 *",
    "0 0 * * L",
    "  0   3 * * *  ",
  ])("%j", (expression) => {
    expect(cronProblem(expression)).toBeUndefined();
  });
});

describe("cron expressions refused, with the field at fault", () => {
  it.each([
    ["*/5 * * *", "has 4 fields"],
    ["* * * * * *", "has 6 fields"],
    ["", "has 1 field;"],
    ["60 * * * *", 'the minute field "60"'],
    ["* 24 * * *", 'the hour field "24"'],
    ["* * 0 * *", 'the day of month field "0"'],
    ["* * 32 * *", 'the day of month field "32"'],
    ["* * * 13 *", 'the month field "13"'],
    ["* * * * 0", 'the day of week field "0"'],
    ["* * * * 8", 'the day of week field "8"'],
    ["*/0 * * * *", 'the minute field "*/0"'],
    ["*/60 * * * *", 'the minute field "*/60"'],
    ["1,,2 * * * *", 'the minute field "1,,2"'],
    ["1- * * * *", 'the minute field "1-"'],
    ["* * L-31 * *", 'the day of month field "L-31"'],
    ["* * * * MON#6", 'the day of week field "MON#6"'],
    ["* * ? * *", 'the day of month field "?"'],
    ["* * * JANUARY *", 'the month field "JANUARY"'],
    ["@hourly", "has 1 field"],
  ])("%j", (expression, problem) => {
    expect(cronProblem(expression)).toContain(problem);
  });

  it("a value that is not a string", () => {
    expect(cronProblem(5)).toContain("not number");
  });
});

it("compares expressions with spacing and case aside", () => {
  expect(normalizeCron("  0 17 *  * sun ")).toBe(normalizeCron("0 17 * * SUN"));
  expect(normalizeCron("0 17 * * sun")).not.toBe(normalizeCron("0 17 * * mon"));
});
