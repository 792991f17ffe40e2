import { describe, expect, it } from "vitest";
import { errorInfo, MAX_ERROR_MESSAGE_CHARS } from "./planner";

describe("errorInfo bounds what a thrown value records", () => {
  it("cuts a message longer than MAX_ERROR_MESSAGE_CHARS, keeping its start and saying how much was cut", () => {
    const message = `start:${"x".repeat(5_000_000)}`;
    const info = errorInfo(new Error(message));
    expect(info.message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS);
    const note = /… \[(\d+) more characters cut\]$/.exec(info.message)!;
    expect(message.startsWith(info.message.slice(0, -note[0].length))).toBe(true);
    expect(Number(note[1])).toBe(message.length - (info.message.length - note[0].length));
  });

  it("gives the same record for an error rethrown from a cut one, so replays and reruns agree", () => {
    const once = errorInfo(new Error("y".repeat(100_000)));
    expect(errorInfo(new Error(once.message))).toEqual(once);
  });

  it("never cuts between the halves of a surrogate pair", () => {
    for (let shift = 0; shift < 2; shift++) {
      const { message } = errorInfo("a".repeat(shift) + "\u{1f600}".repeat(MAX_ERROR_MESSAGE_CHARS));
      const kept = message.slice(0, message.indexOf("…"));
      expect(/[\ud800-\udbff]$/.test(kept)).toBe(false);
    }
  });

  it("cuts a long name too, and leaves short ones as they are", () => {
    const error = new Error("short");
    error.name = "N".repeat(10_000);
    const info = errorInfo(error);
    expect(info.name.length).toBeLessThanOrEqual(256);
    expect(info.message).toBe("short");
  });
});
