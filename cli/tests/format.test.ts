import { describe, expect, it } from "vitest";
import { parseDevVars } from "../connection";
import { cutText, duration, relativeTime, table } from "../format";

describe("how values read in a terminal", () => {
  it("durations in their largest unit and the next when it is not zero", () => {
    expect([0, 450, 999, 1000, 12_400, 60_000, 65_000, 3_600_000, 7_260_000, 7_205_000, 90_000_000].map(duration)).toEqual(["0ms", "450ms", "999ms", "1s", "12s", "1m", "1m 5s", "1h", "2h 1m", "2h", "1d 1h"]);
  });

  it("times relative to now, past and future", () => {
    expect(relativeTime(10_000, 10_500)).toBe("just now");
    expect(relativeTime(0, 65_000)).toBe("1m 5s ago");
    expect(relativeTime(7_200_000, 0)).toBe("in 2h");
  });

  it("cuts text at its end or in its middle, counting characters, not UTF-16 units", () => {
    expect(cutText("abcdefghij", 10)).toBe("abcdefghij");
    expect(cutText("abcdefghij", 6)).toBe("abcde…");
    expect(cutText("abcdefghij", 6, "middle")).toBe("abc…ij");
    expect(cutText("😀😀😀😀", 3)).toBe("😀😀…");
  });

  it("a table shrinks its cuttable columns, widest first, never below their floor", () => {
    const columns = [{ header: "ID", cut: "middle" as const }, { header: "STATUS" }, { header: "DATA", cut: "end" as const }];
    const rows = [["0123456789abcdefghij", "running", "x".repeat(40)]];
    expect(table(columns, rows, 200)).toBe(`ID                    STATUS   DATA\n0123456789abcdefghij  running  ${"x".repeat(40)}\n`);
    expect(table(columns, rows, 40)).toBe("ID                    STATUS   DATA\n0123456789abcdefghij  running  xxxxxxxx…\n");
    // Too narrow for the floors: each cut column stops at 8 characters and the table stays wider than asked.
    expect(table(columns, rows, 10)).toBe("ID        STATUS   DATA\n0123…hij  running  xxxxxxx…\n");
  });
});

describe(".dev.vars", () => {
  it("reads dotenv lines as wrangler does: quotes, comments, export", () => {
    expect(parseDevVars('# a comment\nAPI_TOKEN="abc"\nexport OTHER=plain # note\nSINGLE=\'x y\'\nnot a line\n')).toEqual({ API_TOKEN: "abc", OTHER: "plain", SINGLE: "x y" });
  });

  it("keeps a variable named __proto__ or constructor as a variable, not the table's prototype", () => {
    const vars = parseDevVars("__proto__=p\nconstructor=c\nAPI_TOKEN=t\n");
    expect(Object.getOwnPropertyDescriptor(vars, "__proto__")?.value).toBe("p");
    expect(Object.hasOwn(vars, "constructor") && vars.constructor).toBe("c");
    expect(vars.API_TOKEN).toBe("t");
  });
});
