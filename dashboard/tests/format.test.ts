import { describe, expect, it } from "vitest";
import { clockTime, duration, fullDate, relativeTime, shortId, showing } from "../format";

describe("duration", () => {
  it("writes the two largest units", () => {
    expect(duration(6_026)).toBe("6 s 26 ms");
    expect(duration(340)).toBe("340 ms");
    expect(duration(125_000)).toBe("2 min 5 s");
    expect(duration(3 * 86_400_000 + 4 * 3_600_000 + 59_000)).toBe("3 d 4 h");
  });

  it("leaves out a zero second unit, and says 0 ms for nothing", () => {
    expect(duration(60_000)).toBe("1 min");
    expect(duration(3_600_500)).toBe("1 h");
    expect(duration(0)).toBe("0 ms");
    expect(duration(-5)).toBe("0 ms");
  });
});

describe("relativeTime", () => {
  const now = Date.UTC(2026, 0, 14, 12);
  it("says how long ago, or how far ahead, in the largest whole unit", () => {
    expect(relativeTime(now - 2_000, now, "en")).toBe("just now");
    expect(relativeTime(now - 5 * 60_000, now, "en")).toBe("5 minutes ago");
    expect(relativeTime(now + 2 * 86_400_000, now, "en")).toBe("in 2 days");
    expect(relativeTime(now - 30_000, now, "en")).toBe("30 seconds ago");
  });
});

describe("shortId", () => {
  it("cuts a UUID to its start and end, and keeps a short id whole", () => {
    expect(shortId("3f2a9c1e-7b7d-4c1a-9f7e-0c5d2b8a9a1b")).toBe("3f2a9c1e…9a1b");
    expect(shortId("from-the-browser")).toBe("from-the-browser");
  });
});

describe("fullDate and clockTime", () => {
  it("write what toLocaleString and toLocaleTimeString would, from formatters made once per locale", () => {
    const at = Date.UTC(2026, 0, 14, 16, 14, 5);
    for (const locale of ["en", "de", undefined]) {
      expect(fullDate(at, locale)).toBe(new Date(at).toLocaleString(locale, { dateStyle: "medium", timeStyle: "medium" }));
      expect(clockTime(at, locale)).toBe(new Date(at).toLocaleTimeString(locale));
      expect(fullDate(at + 1000, locale)).not.toBe(fullDate(at, locale));
    }
  });
});

describe("showing", () => {
  it("says which rows of how many are shown, as the explorer does", () => {
    expect(showing(25, 80)).toBe("Showing 1–25 of 80");
    expect(showing(1200, 1200)).toBe("Showing 1–1,200 of 1,200");
    expect(showing(0, 0)).toBe("Showing 0 of 0");
  });

  it("never says fewer in all than are shown, while the counts catch up with a change", () => {
    expect(showing(3, 2)).toBe("Showing 1–3 of 3");
  });
});
