import { describe, it, expect } from "vitest";
import { DEFAULT_POLICY, InvalidStepConfigError, isNonRetryable, nextRetryAt, retryDelay, toPolicy, type StepPolicy } from "./retry";
import { InvalidDurationError, NonRetryableError } from "./errors";

const failure = { name: "Error", message: "boom" };

function policy(overrides: Partial<StepPolicy>): StepPolicy {
  return { ...DEFAULT_POLICY, ...overrides };
}

function expectInvalidConfig(run: () => unknown, step: string) {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidStepConfigError);
  expect((caught as InvalidStepConfigError).code).toBe("step.invalid_config");
  expect((caught as Error).message).toContain(`"${step}"`);
}

describe("toPolicy", () => {
  it("uses Cloudflare's defaults without a config", () => {
    const expected = { limit: 5, delayMs: 10_000, backoff: "exponential", timeoutMs: 600_000 };
    expect(toPolicy("s")).toEqual(expected);
    expect(toPolicy("s", {})).toEqual(expected);
  });

  it("does not let a returned policy alter the defaults", () => {
    const p = toPolicy("s");
    p.limit = 99;
    expect(toPolicy("s").limit).toBe(5);
    expect(DEFAULT_POLICY.limit).toBe(5);
  });

  it("reads limit, delay, backoff and timeout", () => {
    expect(toPolicy("s", { retries: { limit: 2, delay: "1 second", backoff: "linear" }, timeout: "30 seconds" })).toEqual({
      limit: 2,
      delayMs: 1000,
      backoff: "linear",
      timeoutMs: 30_000,
    });
    expect(toPolicy("s", { retries: { limit: 0, delay: 250 } }).limit).toBe(0);
  });

  it("keeps exponential backoff when retries omit the backoff key", () => {
    expect(toPolicy("s", { retries: { limit: 1, delay: 100 } }).backoff).toBe("exponential");
  });

  it("treats an explicit backoff: undefined as constant, as Cloudflare does", () => {
    expect(toPolicy("s", { retries: { limit: 1, delay: 100, backoff: undefined } }).backoff).toBe("constant");
  });

  it("keeps the default retries when only a timeout is given", () => {
    expect(toPolicy("s", { timeout: 5000 })).toEqual({ ...DEFAULT_POLICY, timeoutMs: 5000 });
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "3" as unknown as number])("refuses retries.limit %s", (limit) => {
    expectInvalidConfig(() => toPolicy("charge", { retries: { limit, delay: 100 } }), "charge");
  });

  it("refuses an unknown backoff", () => {
    expectInvalidConfig(() => toPolicy("charge", { retries: { limit: 1, delay: 100, backoff: "fibonacci" as "linear" } }), "charge");
  });

  it.each([0, "0 seconds"] as const)("refuses a timeout of %j", (timeout) => {
    expectInvalidConfig(() => toPolicy("charge", { timeout }), "charge");
  });

  it("refuses an invalid delay or timeout duration", () => {
    expect(() => toPolicy("s", { retries: { limit: 1, delay: "1 h" as "1 hour" } })).toThrow(InvalidDurationError);
    expect(() => toPolicy("s", { timeout: -5 })).toThrow(InvalidDurationError);
  });
});

describe("retryDelay", () => {
  it("doubles the delay for exponential backoff", () => {
    const p = policy({ delayMs: 50, backoff: "exponential" });
    expect([1, 2, 3, 4].map((n) => retryDelay(p, n))).toEqual([50, 100, 200, 400]);
  });

  it("grows the delay by its base for linear backoff", () => {
    const p = policy({ delayMs: 100, backoff: "linear" });
    expect([1, 2, 3].map((n) => retryDelay(p, n))).toEqual([100, 200, 300]);
  });

  it("keeps the delay for constant backoff", () => {
    const p = policy({ delayMs: 1000, backoff: "constant" });
    expect([1, 2, 3].map((n) => retryDelay(p, n))).toEqual([1000, 1000, 1000]);
  });
});

describe("nextRetryAt", () => {
  const p = policy({ limit: 3, delayMs: 50, backoff: "exponential" });
  const now = 1_000_000;

  it("schedules a retry after each of the first `limit` failures", () => {
    expect(nextRetryAt(p, 1, failure, now)).toBe(now + 50);
    expect(nextRetryAt(p, 2, failure, now)).toBe(now + 100);
    expect(nextRetryAt(p, 3, failure, now)).toBe(now + 200);
  });

  it("gives up after the failure that follows the last retry", () => {
    expect(nextRetryAt(p, 4, failure, now)).toBeUndefined();
    expect(nextRetryAt(p, 5, failure, now)).toBeUndefined();
  });

  it("never retries with limit 0", () => {
    expect(nextRetryAt(policy({ limit: 0 }), 1, failure, now)).toBeUndefined();
  });

  it("never retries a NonRetryableError", () => {
    const error = new NonRetryableError("no");
    expect(isNonRetryable({ name: error.name, message: error.message })).toBe(true);
    expect(nextRetryAt(p, 1, { name: error.name, message: error.message }, now)).toBeUndefined();
  });

  it("never retries an error marked nonRetryable", () => {
    const error = { name: "TypeError", message: "bad output", nonRetryable: true };
    expect(isNonRetryable(error)).toBe(true);
    expect(nextRetryAt(p, 1, error, now)).toBeUndefined();
  });

  it("retries ordinary errors", () => {
    expect(isNonRetryable(failure)).toBe(false);
    expect(isNonRetryable({ ...failure, nonRetryable: false })).toBe(false);
  });
});

describe("isNonRetryable, Cloudflare's rule", () => {
  it("recognises the name, a message that starts with it (as errors arrive after crossing RPC), and the engine's own mark", () => {
    expect(isNonRetryable({ name: "NonRetryableError", message: "nope" })).toBe(true);
    expect(isNonRetryable({ name: "Error", message: "NonRetryableError: nope" })).toBe(true);
    expect(isNonRetryable({ name: "Error", message: "bad output", nonRetryable: true })).toBe(true);
    expect(isNonRetryable({ name: "AuthError", message: "bad credentials" })).toBe(false);
  });
});
