import { describe, it, expect } from "vitest";
import { hashString } from "./hash";

describe("hashString", () => {
  it("is stable: the same text always gives the same 14 hex digits", () => {
    expect(hashString("workflow")).toBe(hashString("workflow"));
    expect(hashString("workflow")).toMatch(/^[0-9a-f]{14}$/);
    expect(hashString("")).toMatch(/^[0-9a-f]{14}$/);
  });

  it("tells nearby texts apart", () => {
    const hashes = new Set(["a", "b", "ab", "ba", "", '{"v":"1"}', '{"v":"2"}'].map((t) => hashString(t)));
    expect(hashes.size).toBe(7);
  });

  it("depends on the seed", () => {
    expect(hashString("workflow", 1)).not.toBe(hashString("workflow"));
  });

  it("gives cyrb53's known value for \"a\" (7929297801672961)", () => {
    expect(hashString("a")).toBe((7929297801672961).toString(16).padStart(14, "0"));
  });
});
