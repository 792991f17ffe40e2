import { describe, expect, it } from "vitest";
import { undoOrder } from "./saga";

describe("undoOrder, the saga's order for every form", () => {
  it("undoes the steps that started, newest first start first, and leaves out those that never started", () => {
    const firstStart = new Map([["book", 2], ["charge", 9], ["ship", 5]]);
    expect(undoOrder(["book", "never", "ship", "charge"], (key) => firstStart.get(key))).toEqual(["charge", "ship", "book"]);
  });

  it("takes keys named like Object.prototype's members as any other", () => {
    const firstStart = new Map([["constructor", 1], ["__proto__", 3]]);
    expect(undoOrder(["constructor", "__proto__", "toString"], (key) => firstStart.get(key))).toEqual(["__proto__", "constructor"]);
  });
});
