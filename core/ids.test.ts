import { describe, it, expect } from "vitest";
import { assertEventType, assertIdempotencyKey, assertInstanceId } from "./ids";
import { InvalidEventError, InvalidInstanceIdError } from "./errors";

function codeOf(run: () => void): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe("assertInstanceId", () => {
  it.each(["a", "A_1-b", "_x", "0", "a-", "x".repeat(100)])("accepts %j", (id) => {
    expect(() => assertInstanceId(id)).not.toThrow();
  });

  it.each(["", "-a", "x".repeat(101), "a b", "a/b", "a.b", "é", "a\n", " a"])("refuses %j", (id) => {
    expect(() => assertInstanceId(id)).toThrow(InvalidInstanceIdError);
    expect(codeOf(() => assertInstanceId(id))).toBe("instance.invalid_id");
  });

  it.each([undefined, null, 1, {}, ["a"]])("refuses the non-string %s", (id) => {
    expect(codeOf(() => assertInstanceId(id))).toBe("instance.invalid_id");
  });

  it("names the refused id", () => {
    expect(() => assertInstanceId("a/b")).toThrow(/"a\/b" is invalid/);
  });
});

describe("assertEventType", () => {
  it.each(["approve", "payment-received", "step_2", "x".repeat(100)])("accepts %j", (type) => {
    expect(() => assertEventType(type)).not.toThrow();
  });

  it.each(["xstate.done.actor.x", "xstate.init", "", "-a", "a b", "x".repeat(101)])("refuses %j", (type) => {
    expect(() => assertEventType(type)).toThrow(InvalidEventError);
    expect(codeOf(() => assertEventType(type))).toBe("event.invalid");
  });

  it.each([undefined, null, 1, {}])("refuses the non-string %s", (type) => {
    expect(codeOf(() => assertEventType(type))).toBe("event.invalid");
  });
});

describe("assertIdempotencyKey", () => {
  it.each([undefined, "k", "a key with spaces/and.dots", "x".repeat(256)])("accepts %j", (key) => {
    expect(() => assertIdempotencyKey(key)).not.toThrow();
  });

  it.each(["", "x".repeat(257), null, 1, {}])("refuses %j", (key) => {
    expect(() => assertIdempotencyKey(key)).toThrow(InvalidEventError);
    expect(codeOf(() => assertIdempotencyKey(key))).toBe("event.invalid");
  });
});

describe("values JSON cannot show", () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  it.each([10n, circular])("get the typed error, not a TypeError (%s)", (value) => {
    expect(codeOf(() => assertInstanceId(value))).toBe("instance.invalid_id");
    expect(codeOf(() => assertEventType(value))).toBe("event.invalid");
    expect(codeOf(() => assertIdempotencyKey(value))).toBe("event.invalid");
  });
});
