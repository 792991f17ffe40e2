import { describe, expect, it } from "vitest";
import {
  createManualClock,
  createMemoryHost,
  defineWorkflow,
  NonRetryableError,
  WorkflowEntrypoint,
  type LogRecord,
  type WorkflowEvent,
  type WorkflowStep,
  type WorkflowStepConfig,
  type WorkflowStepContext,
} from "../../index";

/**
 * Cloudflare Workflows' rules, one by one, as its documentation
 * (https://developers.cloudflare.com/workflows/build/workers-api/) and its engines' source
 * state them (the local engine: https://github.com/cloudflare/workers-sdk/tree/main/packages/workflows-shared/src),
 * on the memory host with a manual clock. Where Cloudflare's two local engines differ we follow
 * the one in workerd (WD), and say so; docs/cloudflare-compat.md lists every difference.
 */

const START = 1_000_000;
const CONFIG_HELP = "See https://developers.cloudflare.com/workflows/build/sleeping-and-retrying/";

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Lets run() and the callbacks reach their next await without waiting for callbacks that never end. */
async function spin(times = 5) {
  for (let i = 0; i < times; i++) await flush();
}

async function settle(host: { idle(): Promise<void> }) {
  for (let i = 0; i < 5; i++) {
    await flush();
    await host.idle();
  }
}

type Body<P> = (event: WorkflowEvent<P>, step: WorkflowStep) => Promise<unknown>;

/** A class written as for Cloudflare whose run() is the given body. */
function entrypointOf<P = unknown>(body: Body<P>) {
  return class extends WorkflowEntrypoint<unknown, P> {
    async run(event: WorkflowEvent<P>, step: WorkflowStep) {
      return body(event, step);
    }
  };
}

function hostFor<P = unknown>(body: Body<P>, options: { stepLimit?: number } = {}) {
  const clock = createManualClock(START);
  const host = createMemoryHost({ workflows: [defineWorkflow({ name: "rules", entrypoint: entrypointOf(body), ...options })], clock });
  return { host, clock, client: host.workflow("rules") };
}

/** What a rejected promise carries, as a Cloudflare user would log it. */
async function caught(promise: Promise<unknown>): Promise<{ name: string; message: string } | "resolved"> {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
}

/** A promise the test settles: a callback that stays in flight until told. */
function gate<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

const ofType = <T extends LogRecord["type"]>(log: LogRecord[], type: T) => log.filter((r) => r.type === type) as LogRecord<T>[];

/** For each failed attempt of a step: the wait before its retry, or undefined for the last. */
const retryWaits = (log: LogRecord[]) => ofType(log, "step.attempt_failed").map((r) => (r.data.retryAt === undefined ? undefined : r.data.retryAt - r.at));

describe("step config", () => {
  const invalid: [string, unknown][] = [
    ["an extra top-level key", { retries: { limit: 1, delay: 10 }, priority: "high" }],
    ["an extra key in retries", { retries: { limit: 1, delay: 10, jitter: true } }],
    ["retries without a delay", { retries: { limit: 1 } }],
    ["timeout: 0", { timeout: 0 }],
    ["an unknown backoff", { retries: { limit: 1, delay: 10, backoff: "quadratic" } }],
    ["a negative limit", { retries: { limit: -1, delay: 10 } }],
    ["a fractional limit", { retries: { limit: 1.5, delay: 10 } }],
    // WD refuses a duration with an unknown unit; MF would read "1 h" as 1 ms.
    ["a duration with an unknown unit", { retries: { limit: 1, delay: "1 h" } }],
  ];

  // run() receives Cloudflare's refusal messages under the name they were thrown with; Cloudflare's engine
  // folds it into the message instead (docs/cloudflare-compat.md, test/conformance.test.ts).
  it.each(invalid)("%s: step.do throws Cloudflare's message into run(), and the callback never runs", async (_label, config) => {
    let calls = 0;
    const { host, client } = hostFor(async (_event, step) => caught(step.do("charge card", config as WorkflowStepConfig, async () => void calls++)));
    const instance = await client.create({ id: "caught" });
    await settle(host);
    expect(await instance.status()).toMatchObject({
      status: "complete",
      output: { name: "WorkflowFatalError", message: `Step config for "charge card" is in a invalid format. ${CONFIG_HELP}` },
    });
    expect(calls).toBe(0);
    expect(ofType(await instance.history(), "step.started")).toEqual([]);
  });

  it.each(invalid)("%s, uncaught: status() reports it with Cloudflare's message and the name it was thrown with", async (_label, config) => {
    let calls = 0;
    const { host, client } = hostFor(async (_event, step) => step.do("charge card", config as WorkflowStepConfig, async () => void calls++));
    const instance = await client.create({ id: "uncaught" });
    await settle(host);
    expect(await instance.status()).toMatchObject({
      status: "errored",
      error: { name: "WorkflowFatalError", message: `Step config for "charge card" is in a invalid format. ${CONFIG_HELP}` },
    });
    expect(calls).toBe(0);
  });
});

describe("the step context", () => {
  it("gets { step: { name, count }, attempt, config } with Cloudflare's defaults filled in, and no retries.delay for a delay function", async () => {
    const seen: Record<string, WorkflowStepContext> = {};
    const { host, client } = hostFor(async (_event, step) => {
      await step.do("plain", async (ctx) => void (seen.plain = ctx));
      await step.do("plain", async (ctx) => void (seen.plain2 = ctx));
      await step.do("timeout only", { timeout: "30 seconds" }, async (ctx) => void (seen.timeoutOnly = ctx));
      await step.do("retries only", { retries: { limit: 2, delay: "1 second" } }, async (ctx) => void (seen.retriesOnly = ctx));
      await step.do("dynamic", { retries: { limit: 3, delay: () => 500, backoff: "linear" }, timeout: 2000 }, async (ctx) => void (seen.dynamic = ctx));
      await step.do("secret", { sensitive: "output" }, async (ctx) => void (seen.secret = ctx));
      return "done";
    });
    const instance = await client.create({ id: "ctx" });
    await settle(host);
    expect((await instance.status()).status).toBe("complete");
    const defaults = { retries: { limit: 5, delay: 10000, backoff: "exponential" }, timeout: "10 minutes" };
    expect(seen.plain).toEqual({ step: { name: "plain", count: 1 }, attempt: 1, config: defaults });
    expect(seen.plain2).toEqual({ step: { name: "plain", count: 2 }, attempt: 1, config: defaults });
    expect(seen.timeoutOnly).toEqual({ step: { name: "timeout only", count: 1 }, attempt: 1, config: { ...defaults, timeout: "30 seconds" } });
    expect(seen.retriesOnly?.config).toEqual({ retries: { limit: 2, delay: "1 second", backoff: "exponential" }, timeout: "10 minutes" });
    expect(seen.dynamic?.config).toEqual({ retries: { limit: 3, backoff: "linear" }, timeout: 2000 });
    expect("delay" in seen.dynamic!.config.retries!).toBe(false);
    expect(seen.secret?.config).toEqual({ ...defaults, sensitive: "output" });
  });
});

describe("retries", () => {
  it("by default: limit 5, so 6 attempts, 10 s apart and doubling (10, 20, 40, 80, 160 s)", async () => {
    const attempts: number[] = [];
    const { host, clock, client } = hostFor(async (_event, step) =>
      step.do("flaky", async (ctx) => {
        attempts.push(ctx.attempt);
        throw new Error(`attempt ${ctx.attempt} failed`);
      }),
    );
    const instance = await client.create({ id: "defaults" });
    await settle(host);
    expect(attempts).toEqual([1]);
    for (const wait of [10_000, 20_000, 40_000, 80_000, 160_000]) {
      const before = attempts.length;
      clock.advance(wait - 1);
      await settle(host);
      expect(attempts.length, `nothing runs 1 ms before the ${wait} ms retry`).toBe(before);
      clock.advance(1);
      await settle(host);
      expect(attempts.length).toBe(before + 1);
    }
    expect(attempts).toEqual([1, 2, 3, 4, 5, 6]);
    clock.advance(10 * 86_400_000);
    await settle(host);
    expect(attempts).toHaveLength(6);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { name: "Error", message: "attempt 6 failed" } });
    expect(retryWaits(await instance.history())).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, undefined]);
  });

  it("an explicit backoff: undefined means constant, not the default exponential", async () => {
    const configs: WorkflowStepContext["config"][] = [];
    const { host, clock, client } = hostFor(async (_event, step) =>
      caught(
        step.do("flaky", { retries: { limit: 3, delay: 1000, backoff: undefined } }, async (ctx) => {
          configs.push(ctx.config);
          throw new Error("no");
        }),
      ),
    );
    const instance = await client.create({ id: "constant" });
    await settle(host);
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await settle(host);
    }
    expect(configs).toHaveLength(4);
    expect(configs[0]?.retries?.backoff).toBe("constant");
    expect(retryWaits(await instance.history())).toEqual([1000, 1000, 1000, undefined]);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { name: "Error", message: "no" } });
  });

  it("a NonRetryableError with a custom name is retried: Cloudflare knows it only by name or message", async () => {
    const runs = { custom: 0, byMessage: 0, plain: 0 };
    const { host, clock, client } = hostFor(async (_event, step) => {
      const custom = await caught(
        step.do("custom", { retries: { limit: 2, delay: 100, backoff: "constant" } }, async () => {
          runs.custom++;
          throw new NonRetryableError("quota exceeded", "QuotaError");
        }),
      );
      const byMessage = await caught(
        step.do("by message", { retries: { limit: 2, delay: 100, backoff: "constant" } }, async () => {
          runs.byMessage++;
          throw new Error("NonRetryableError: the card was declined");
        }),
      );
      const plain = await caught(
        step.do("plain", { retries: { limit: 2, delay: 100, backoff: "constant" } }, async () => {
          runs.plain++;
          throw new NonRetryableError("nope");
        }),
      );
      return { custom, byMessage, plain };
    });
    const instance = await client.create({ id: "nonretryable" });
    await settle(host);
    for (let i = 0; i < 2; i++) {
      clock.advance(100);
      await settle(host);
    }
    expect(runs).toEqual({ custom: 3, byMessage: 1, plain: 1 });
    expect(await instance.status()).toMatchObject({
      status: "complete",
      output: {
        custom: { name: "QuotaError", message: "quota exceeded" },
        byMessage: { name: "Error", message: "NonRetryableError: the card was declined" },
        plain: { name: "NonRetryableError", message: "nope" },
      },
    });
  });

  it("a step timeout fails the attempt with WorkflowTimeoutError and is retried like any error", async () => {
    const attempts: number[] = [];
    const { host, clock, client } = hostFor(async (_event, step) => {
      const slow = await caught(
        step.do("slow", { retries: { limit: 1, delay: 1000, backoff: "constant" }, timeout: 100 }, async (ctx) => {
          attempts.push(ctx.attempt);
          return new Promise(() => undefined);
        }),
      );
      const recovers = await step.do("recovers", { retries: { limit: 1, delay: 1000, backoff: "constant" }, timeout: 100 }, async (ctx) =>
        ctx.attempt === 1 ? new Promise<string>(() => undefined) : `attempt ${ctx.attempt}`,
      );
      return { slow, recovers };
    });
    const instance = await client.create({ id: "timeout" });
    await spin();
    expect(attempts).toEqual([1]);
    clock.advance(99);
    await spin();
    expect(ofType(await instance.history(), "step.attempt_failed")).toHaveLength(0);
    clock.advance(1);
    await spin();
    clock.advance(1000);
    await spin();
    expect(attempts).toEqual([1, 2]);
    clock.advance(100);
    await spin();
    // "recovers": its first attempt times out, its second succeeds.
    clock.advance(100);
    await spin();
    clock.advance(1000);
    await settle(host);
    expect(await instance.status()).toMatchObject({
      status: "complete",
      output: { slow: { name: "WorkflowTimeoutError", message: "Execution timed out after 100ms" }, recovers: "attempt 2" },
    });
    const failures = ofType(await instance.history(), "step.attempt_failed");
    expect(failures.map((r) => [r.data.key, r.data.error.name, r.data.error.message])).toEqual([
      ["do:slow-1", "WorkflowTimeoutError", "Execution timed out after 100ms"],
      ["do:slow-1", "WorkflowTimeoutError", "Execution timed out after 100ms"],
      ["do:recovers-1", "WorkflowTimeoutError", "Execution timed out after 100ms"],
    ]);
  });
});

describe("delay functions", () => {
  it("the function's result is the wait, with no backoff applied (as the workerd engine does)", async () => {
    const calls: { attempt: number; error: string; hasDelay: boolean }[] = [];
    const { host, clock, client } = hostFor(async (_event, step) =>
      step.do(
        "flaky",
        {
          retries: {
            limit: 3,
            backoff: "exponential",
            delay: async ({ ctx, error }) => {
              calls.push({ attempt: ctx.attempt, error: `${error.name}: ${error.message}`, hasDelay: "delay" in ctx.config.retries! });
              return `${ctx.attempt} seconds`;
            },
          },
        },
        async (ctx) => {
          if (ctx.attempt < 4) throw new TypeError(`fail ${ctx.attempt}`);
          return ctx.attempt;
        },
      ),
    );
    const instance = await client.create({ id: "fn" });
    await settle(host);
    for (const wait of [1000, 2000, 3000]) {
      clock.advance(wait - 1);
      await settle(host);
      const started = ofType(await instance.history(), "step.started").length;
      clock.advance(1);
      await settle(host);
      expect(ofType(await instance.history(), "step.started").length).toBe(started + 1);
    }
    expect(await instance.status()).toMatchObject({ status: "complete", output: 4 });
    expect(retryWaits(await instance.history())).toEqual([1000, 2000, 3000]);
    expect(calls).toEqual([
      { attempt: 1, error: "TypeError: fail 1", hasDelay: false },
      { attempt: 2, error: "TypeError: fail 2", hasDelay: false },
      { attempt: 3, error: "TypeError: fail 3", hasDelay: false },
    ]);
  });

  it("a delay function that throws ends the step at once as NonRetryableDelayError", async () => {
    let attempts = 0;
    const { host, client } = hostFor(async (_event, step) => {
      await step.do("flaky", async () => "first occurrence is fine");
      return caught(
        step.do(
          "flaky",
          {
            retries: {
              limit: 5,
              delay: () => {
                throw new Error("no delay for you");
              },
            },
          },
          async () => {
            attempts++;
            throw new Error("down");
          },
        ),
      );
    });
    const instance = await client.create({ id: "fn-throws" });
    await settle(host);
    expect(attempts).toBe(1);
    const message = 'The delay function for step "flaky-2" threw an error: no delay for you';
    expect(await instance.status()).toMatchObject({ status: "complete", output: { name: "NonRetryableDelayError", message } });
    const log = await instance.history();
    expect(ofType(log, "step.failed")[0]?.data).toMatchObject({ key: "do:flaky-2", error: { name: "NonRetryableDelayError", message } });
    // The attempt itself failed with its own error, as Cloudflare's attempt_errored event says.
    expect(ofType(log, "step.attempt_failed").map((r) => r.data)).toEqual([{ key: "do:flaky-2", attempt: 1, error: { name: "Error", message: "down" } }]);
  });

  it("the retry's wait starts when the delay function answers, not when the attempt failed", async () => {
    const answer = gate<number>();
    const { host, clock, client } = hostFor(async (_event, step) =>
      step.do("flaky", { retries: { limit: 1, delay: () => answer.promise } }, async (ctx) => {
        if (ctx.attempt === 1) throw new Error("down");
        return "second attempt";
      }),
    );
    const instance = await client.create({ id: "fn-slow" });
    await spin();
    clock.advance(3000);
    answer.open(1000);
    await settle(host);
    expect(retryWaits(await instance.history())).toEqual([1000]);
    clock.advance(999);
    await settle(host);
    expect(ofType(await instance.history(), "step.started")).toHaveLength(1);
    clock.advance(1);
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: "second attempt" });
  });

  it.each([
    ["soon", '"soon"'],
    [-1, "-1"],
    [{}, "{}"],
    ["1 fortnight", '"1 fortnight"'],
  ])("a delay function that returns %j ends the step with the invalid-value message", async (value, shown) => {
    let attempts = 0;
    const { host, client } = hostFor(async (_event, step) =>
      caught(
        step.do("flaky", { retries: { limit: 5, delay: () => value as never } }, async () => {
          attempts++;
          throw new Error("down");
        }),
      ),
    );
    const instance = await client.create({ id: "fn-nonsense" });
    await settle(host);
    expect(attempts).toBe(1);
    expect((await instance.status()).output).toEqual({
      name: "NonRetryableDelayError",
      message: `The delay function for step "flaky-1" returned an invalid delay value (expected a number of ms or a duration string like "30 seconds"), got ${shown}`,
    });
  });

  it("a delay function that never returns ends the step after 5 seconds", async () => {
    let attempts = 0;
    const { host, clock, client } = hostFor(async (_event, step) =>
      caught(
        step.do("flaky", { retries: { limit: 5, delay: () => new Promise<number>(() => undefined) } }, async () => {
          attempts++;
          throw new Error("down");
        }),
      ),
    );
    const instance = await client.create({ id: "fn-hangs" });
    // host.idle() would wait for the delay function: move the clock before settling.
    await spin();
    clock.advance(4999);
    await spin();
    expect(ofType(await instance.history(), "step.failed")).toEqual([]);
    clock.advance(1);
    await settle(host);
    expect(attempts).toBe(1);
    expect(await instance.status()).toMatchObject({
      status: "complete",
      output: { name: "NonRetryableDelayError", message: 'The delay function for step "flaky-1" did not return within 5 seconds' },
    });
  });
});

describe("step names", () => {
  const refusal = (name: string) => ({ name: "WorkflowFatalError", message: `Step name "${name}" exceeds max length (256 chars) or invalid characters found` });
  const long = "n".repeat(257);

  it("refuses a name over 256 characters or with a control character, for do, sleep and waitForEvent; accepts 256 characters and \"\"", async () => {
    let calls = 0;
    const { host, client } = hostFor(async (_event, step) => ({
      doLong: await caught(step.do(long, async () => void calls++)),
      doNewline: await caught(step.do("line\nbreak", async () => void calls++)),
      doNul: await caught(step.do("nul\u0000", async () => void calls++)),
      sleepLong: await caught(step.sleep(long, 10)),
      sleepUntilNewline: await caught(step.sleepUntil("line\nbreak", START + 10)),
      waitNewline: await caught(step.waitForEvent("line\nbreak", { type: "go", timeout: 10 })),
      waitLong: await caught(step.waitForEvent(long, { type: "go", timeout: 10 })),
      do256: await step.do("n".repeat(256), async () => (calls++, "ok")),
      doEmpty: await step.do("", async () => (calls++, "empty ok")),
    }));
    const instance = await client.create({ id: "names" });
    await settle(host);
    expect(await instance.status()).toMatchObject({
      status: "complete",
      output: {
        doLong: refusal(long),
        doNewline: refusal("line\nbreak"),
        doNul: refusal("nul\u0000"),
        sleepLong: refusal(long),
        sleepUntilNewline: refusal("line\nbreak"),
        waitNewline: refusal("line\nbreak"),
        waitLong: refusal(long),
        do256: "ok",
        doEmpty: "empty ok",
      },
    });
    expect(calls).toBe(2);
    expect(ofType(await instance.history(), "step.started").map((r) => r.data.key)).toEqual([`do:${"n".repeat(256)}-1`, "do:-1"]);
  });

  it("an invalid name, uncaught, errors the instance as { name: WorkflowFatalError, message: … }", async () => {
    const { host, client } = hostFor(async (_event, step) => step.do(long, async () => 1));
    const instance = await client.create({ id: "name-uncaught" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "errored", error: refusal(long) });
  });
});

describe("the step limit", () => {
  const limitMessage = "The limit of 3 steps has been reached. This limit can be changed in your worker configuration.";

  it("counts step.do calls only: sleeps and waits don't count, and the 4th step.do throws", async () => {
    const calls: string[] = [];
    const { host, clock, client } = hostFor(
      async (_event, step) => {
        await step.do("one", async () => void calls.push("one"));
        await step.sleep("nap", 1000);
        await step.do("two", async () => void calls.push("two"));
        await step.waitForEvent("approval", { type: "approve", timeout: "1 hour" });
        await step.sleep("nap", 1000);
        await step.do("three", async () => void calls.push("three"));
        const fourth = await caught(step.do("four", async () => void calls.push("four")));
        return fourth;
      },
      { stepLimit: 3 },
    );
    const instance = await client.create({ id: "limit" });
    await instance.sendEvent({ type: "approve" });
    await settle(host);
    clock.advance(1000);
    await settle(host);
    clock.advance(1000);
    await settle(host);
    expect(calls).toEqual(["one", "two", "three"]);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { name: "WorkflowFatalError", message: limitMessage } });
  });

  it("is configurable up to Cloudflare's highest, 25,000; above it, or not a whole number above 0, the definition is refused", () => {
    const entrypoint = entrypointOf(async () => undefined);
    expect(defineWorkflow({ name: "most", entrypoint, stepLimit: 25_000 }).stepLimit).toBe(25_000);
    expect(defineWorkflow({ name: "default", entrypoint }).stepLimit).toBe(10_000);
    for (const stepLimit of [25_001, 0, 2.5, Number.NaN]) {
      expect(() => defineWorkflow({ name: "over", entrypoint, stepLimit }), String(stepLimit)).toThrow(
        expect.objectContaining({ code: "definition.invalid", message: expect.stringContaining("stepLimit must be a whole number from 1 to 25,000") }),
      );
    }
  });

  it("at 25,000 the 25,001st step.do is refused with Cloudflare's message", async () => {
    let calls = 0;
    const { host, client } = hostFor(
      async (_event, step) => {
        for (let i = 0; i < 25_000; i++) await step.do("item", async () => void calls++);
        return caught(step.do("one more", async () => void calls++));
      },
      { stepLimit: 25_000 },
    );
    const instance = await client.create({ id: "limit-max" });
    await settle(host);
    expect(calls).toBe(25_000);
    expect(await instance.status()).toMatchObject({
      status: "complete",
      output: { name: "WorkflowFatalError", message: "The limit of 25000 steps has been reached. This limit can be changed in your worker configuration." },
    });
  });

  it("counts replayed steps too, and uncaught errors the instance as { name: WorkflowFatalError, message: … }", async () => {
    let calls = 0;
    const { host, clock, client } = hostFor(
      async (_event, step) => {
        for (let i = 0; i < 3; i++) await step.do("item", async () => void calls++);
        await step.sleep("between", 1000);
        await step.do("one too many", async () => void calls++);
      },
      { stepLimit: 3 },
    );
    const instance = await client.create({ id: "limit-uncaught" });
    await settle(host);
    host.crash();
    await settle(host);
    clock.advance(1000);
    await settle(host);
    expect(calls).toBe(3);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { name: "WorkflowFatalError", message: limitMessage } });
  });
});

describe("sleeps", () => {
  it("sleepUntil a time in the past throws the time-traveler error", async () => {
    const { host, client } = hostFor(async (event, step) => ({
      past: await caught(step.sleepUntil("yesterday", new Date(event.timestamp.getTime() - 86_400_000))),
      pastNumber: await caught(step.sleepUntil("a moment ago", event.timestamp.getTime() - 1)),
    }));
    const instance = await client.create({ id: "past" });
    await settle(host);
    const timeTraveler = { name: "Error", message: "You can't sleep until a time in the past, time-traveler" };
    expect(await instance.status()).toMatchObject({ status: "complete", output: { past: timeTraveler, pastNumber: timeTraveler } });
  });

  it.each(["crash", "pause and resume"] as const)(
    "a sleepUntil that already completed does not throw when run() replays after a %s (Cloudflare's local engine does; we must not)",
    async (how) => {
      const calls = { before: 0, after: 0 };
      const { host, clock, client } = hostFor(async (event, step) => {
        await step.do("before", async () => void calls.before++);
        await step.sleepUntil("wake up", new Date(event.timestamp.getTime() + 60_000));
        const go = await step.waitForEvent<{ n: number }>("go", { type: "go", timeout: "1 hour" });
        await step.do("after", async () => void calls.after++);
        return go.payload.n;
      });
      const instance = await client.create({ id: "until-replay" });
      await settle(host);
      clock.advance(60_000);
      await settle(host);
      expect((await instance.status()).value).toEqual(["waitForEvent:go-1"]);
      // The sleep's time now lies in the past; the replay must answer it from the log.
      clock.advance(5_000);
      if (how === "crash") host.crash();
      else {
        await instance.pause();
        await settle(host);
        expect((await instance.status()).status).toBe("paused");
        await instance.resume();
      }
      await settle(host);
      await instance.sendEvent({ type: "go", payload: { n: 7 } });
      await settle(host);
      expect(await instance.status()).toMatchObject({ status: "complete", output: 7 });
      expect(calls).toEqual({ before: 1, after: 1 });
    },
  );

  it("refuses a sleep over 365 days; 365 days is allowed", async () => {
    const { host, client } = hostFor(async (event, step) => {
      const tooLong = await caught(step.sleep("too long", "366 days"));
      const tooLongMs = await caught(step.sleep("too long ms", 365 * 86_400_000 + 1));
      const tooFar = await caught(step.sleepUntil("too far", event.timestamp.getTime() + 366 * 86_400_000));
      const results = { tooLong, tooLongMs, tooFar };
      await step.do("record", async () => results);
      await step.sleep("a year", "365 days");
      return "woke";
    });
    const instance = await client.create({ id: "long-sleep" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "waiting", value: ["sleep:a year-1"] });
    const [recorded] = ofType(await instance.history(), "step.succeeded");
    expect(recorded?.data.output).toEqual({
      tooLong: { name: "WorkflowFatalError", message: 'Sleep "too long" is longer than the 365-day limit.' },
      tooLongMs: { name: "WorkflowFatalError", message: 'Sleep "too long ms" is longer than the 365-day limit.' },
      tooFar: { name: "WorkflowFatalError", message: 'Sleep "too far" is longer than the 365-day limit.' },
    });
  });
});

// Cloudflare folds a custom name into the message as the error crosses RPC; no RPC boundary sits
// between our steps and run(), so the name is kept (docs/cloudflare-compat.md, "Custom error names").
describe("custom error names", () => {
  class QuotaError extends Error {
    constructor(message: string) {
      super(message);
      this.name = "QuotaError";
    }
  }
  const failing = (step: WorkflowStep) =>
    step.do("quota", { retries: { limit: 0, delay: 0 } }, async () => {
      throw new QuotaError("over quota");
    });

  it("a step's custom error reaches run() with its name and message, and the log keeps them", async () => {
    const { host, client } = hostFor(async (_event, step) => caught(failing(step)));
    const instance = await client.create({ id: "custom-caught" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { name: "QuotaError", message: "over quota" } });
    expect(ofType(await instance.history(), "step.failed").map((r) => r.data.error)).toEqual([{ name: "QuotaError", message: "over quota" }]);
  });

  it.each([
    ["from a step", async (step: WorkflowStep) => failing(step), "over quota"],
    ["outside any step", async () => Promise.reject(new QuotaError("over quota, outside steps")), "over quota, outside steps"],
  ] as const)("thrown %s and uncaught, it ends the instance with its name and message in status().error", async (_label, body, message) => {
    const { host, client } = hostFor(async (_event, step) => body(step));
    const instance = await client.create({ id: "custom-uncaught" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { name: "QuotaError", message } });
    expect(ofType(await instance.history(), "instance.errored").map((r) => r.data.error)).toEqual([{ name: "QuotaError", message }]);
  });
});

describe("step outputs", () => {
  const big = "x".repeat(1024 * 1024 + 1);
  const bad: [string, () => unknown, string][] = [
    ["a function", () => () => 1, "a function"],
    ["a symbol inside", () => ({ tag: Symbol("x") }), "a symbol"],
    ["over 1 MiB of JSON", () => big, "bytes as JSON"],
  ];

  it.each(bad)("an output that is %s ends the instance as Cloudflare's does, with no retry, and never reaches the log", async (_label, make, detail) => {
    let calls = 0;
    const { host, clock, client } = hostFor(async (_event, step) =>
      caught(
        step.do("fn", { retries: { limit: 3, delay: 10, backoff: "constant" } }, async () => {
          calls++;
          return make() as never;
        }),
      ),
    );
    const instance = await client.create({ id: "bad-output" });
    await settle(host);
    clock.advance(1000);
    await settle(host);
    expect(calls).toBe(1);
    expect(await instance.status()).toMatchObject({
      status: "errored",
      error: { name: "WorkflowFatalError", message: 'The execution of the Workflow instance was terminated, as the step "fn" returned a value which is not serialisable' },
    });
    const log = await instance.history();
    expect(ofType(log, "step.failed")[0]!.data.error.message).toContain(detail);
    expect(ofType(log, "step.succeeded")).toEqual([]);
    expect(ofType(log, "step.attempt_failed")).toHaveLength(1);
    expect(ofType(log, "step.failed")).toHaveLength(1);
    const text = JSON.stringify(log);
    expect(text).not.toContain("x".repeat(1000));
    expect(text).not.toContain("1970-01-01");
  });

  it("a waitForEvent timeout reports its own timeout, not the time paused around it", async () => {
    const { host, clock, client } = hostFor(async (_event, step) => caught(step.waitForEvent("w", { type: "never", timeout: 1000 })));
    const instance = await client.create({ id: "paused-timeout" });
    await settle(host);
    clock.advance(400);
    await instance.pause();
    clock.advance(5000);
    await instance.resume();
    await settle(host);
    clock.advance(600);
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { name: "WorkflowTimeoutError", message: "Execution timed out after 1000ms" } });
  });

  it("a second restart from a step cuts this run's log, not the first run's", async () => {
    let aRuns = 0;
    let bRuns = 0;
    const { host, client } = hostFor(async (_event, step) => {
      const a = await step.do("a", async () => `a${++aRuns}`);
      const b = await step.do("b", async () => `b${++bRuns}`);
      return { a, b };
    });
    const instance = await client.create({ id: "restart-twice" });
    await settle(host);
    await instance.restart({ from: "do:a-1" });
    await settle(host);
    expect((await instance.status()).output).toEqual({ a: "a2", b: "b2" });
    await instance.restart({ from: "do:b-1" });
    await settle(host);
    expect((await instance.status()).output).toEqual({ a: "a2", b: "b3" });
    expect([aRuns, bRuns]).toEqual([2, 3]);
  });

  it("what structured clone carries (Date, Map, Set, BigInt, RegExp, typed arrays, undefined inside) comes back as itself, also after a crash", async () => {
    const seen: string[] = [];
    const { host, client } = hostFor(async (_event, step) => {
      const value = await step.do("rich", async () => ({ at: new Date(0), tags: new Map([["a", 1]]), ids: new Set([1, 2]), big: 10n ** 20n, pattern: /x/g, bytes: new Uint8Array([1, 2]), missing: undefined }));
      seen.push(
        [value.at instanceof Date && value.at.getTime(), value.tags.get("a"), value.ids.has(2), value.big === 10n ** 20n, value.pattern.flags, value.bytes instanceof Uint8Array && value.bytes[1], "missing" in value].join(","),
      );
      await step.waitForEvent("go", { type: "go" });
      return { at: value.at, size: value.tags.size };
    });
    const instance = await client.create({ id: "structured" });
    await settle(host);
    host.crash();
    await settle(host);
    await instance.sendEvent({ type: "go" });
    await settle(host);
    expect(seen).toEqual(["0,1,true,true,g,2,true", "0,1,true,true,g,2,true"]);
    // status() shows a JSON copy, as Cloudflare's does: the Date as its ISO string.
    expect(await instance.status()).toMatchObject({ status: "complete", output: { at: "1970-01-01T00:00:00.000Z", size: 1 } });
  });

  it("undefined returned by a step replays as undefined, across a crash", async () => {
    let calls = 0;
    const seen: string[] = [];
    const { host, client } = hostFor(async (_event, step) => {
      const nothing = await step.do("returns nothing", async () => void calls++);
      seen.push(nothing === undefined ? "undefined" : JSON.stringify(nothing));
      await step.waitForEvent("go", { type: "go" });
      return { isUndefined: nothing === undefined, type: typeof nothing };
    });
    const instance = await client.create({ id: "undefined" });
    await settle(host);
    host.crash();
    await settle(host);
    await instance.sendEvent({ type: "go" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { isUndefined: true, type: "undefined" } });
    expect(calls).toBe(1);
    expect(seen).toEqual(["undefined", "undefined"]);
    const [succeeded] = ofType(await instance.history(), "step.succeeded");
    expect(succeeded && "output" in succeeded.data).toBe(false);
  });
});

describe("events", () => {
  it.each(["pause and resume", "crash"] as const)(
    "are buffered per type, first in first out, one per wait; after a %s a consumed event is not delivered again",
    async (how) => {
      const { host, clock, client } = hostFor(async (_event, step) => {
        await step.sleep("nap", "1 minute");
        const first = await step.waitForEvent<{ n: number }>("w", { type: "go", timeout: "1 hour" });
        const second = await step.waitForEvent<{ n: number }>("w", { type: "go", timeout: "1 hour" });
        await step.sleep("hold", "1 minute");
        const third = await caught(step.waitForEvent("w", { type: "go", timeout: 1000 }));
        const other = await step.waitForEvent<{ x: number }>("other", { type: "other", timeout: 1000 });
        return { first: first.payload, second: second.payload, third, other: other.payload, firstType: first.type };
      });
      const instance = await client.create({ id: "events" });
      await settle(host);
      await instance.sendEvent({ type: "go", payload: { n: 1 } });
      await instance.sendEvent({ type: "other", payload: { x: 1 } });
      await instance.sendEvent({ type: "go", payload: { n: 2 } });
      clock.advance(60_000);
      await settle(host);
      expect((await instance.status()).value).toEqual(["sleep:hold-1"]);
      if (how === "crash") host.crash();
      else {
        await instance.pause();
        await settle(host);
        await instance.resume();
      }
      await settle(host);
      clock.advance(60_000);
      await settle(host);
      expect((await instance.status()).value).toEqual(["waitForEvent:w-3"]);
      clock.advance(1000);
      await settle(host);
      expect(await instance.status()).toMatchObject({
        status: "complete",
        output: {
          first: { n: 1 },
          second: { n: 2 },
          firstType: "go",
          third: { name: "WorkflowTimeoutError", message: "Execution timed out after 1000ms" },
          other: { x: 1 },
        },
      });
    },
  );
});

describe("pause and resume", () => {
  it("a step in flight finishes and keeps its result: waitingForPause, then paused; resume does not run it again", async () => {
    const slow = gate<string>();
    const calls = { slow: 0, next: 0 };
    let runs = 0;
    const { host, client } = hostFor(async (_event, step) => {
      runs++;
      const a = await step.do("slow", async () => (calls.slow++, slow.promise));
      const b = await step.do("next", async () => (calls.next++, `${a} then next`));
      return b;
    });
    const instance = await client.create({ id: "pause-step" });
    await spin();
    expect((await instance.status()).status).toBe("running");
    await instance.pause();
    expect((await instance.status()).status).toBe("waitingForPause");
    slow.open("slow done");
    await settle(host);
    expect((await instance.status()).status).toBe("paused");
    expect(calls).toEqual({ slow: 1, next: 0 });
    expect(ofType(await instance.history(), "step.succeeded").map((r) => r.data.output)).toEqual(["slow done"]);
    await instance.resume();
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: "slow done then next" });
    expect(calls).toEqual({ slow: 1, next: 1 });
    expect(runs).toBe(2);
  });

  it("paused time does not count: a sleep paused partway ends later by the time it was paused", async () => {
    let woke = 0;
    const { host, clock, client } = hostFor(async (_event, step) => {
      await step.sleep("nap", "10 seconds");
      await step.do("woke", async () => void woke++);
      return "done";
    });
    const instance = await client.create({ id: "pause-sleep" });
    await settle(host);
    clock.advance(4_000);
    await instance.pause();
    await settle(host);
    expect((await instance.status()).status).toBe("paused");
    clock.advance(100_000);
    await settle(host);
    expect(woke).toBe(0);
    await instance.resume();
    await settle(host);
    clock.advance(5_999);
    await settle(host);
    expect(woke).toBe(0);
    expect((await instance.status()).status).toBe("waiting");
    clock.advance(1);
    await settle(host);
    expect(woke).toBe(1);
    expect(await instance.status()).toMatchObject({ status: "complete", output: "done" });
  });
});

describe("restart from a step", () => {
  it("keeps the steps that started before it, runs it and the later ones again, and drops buffered events", async () => {
    const calls = { a: 0, b: 0, c: 0 };
    const { host, clock, client } = hostFor(async (_event, step) => {
      const a = await step.do("a", async () => (++calls.a, `a${calls.a}`));
      const b = await step.do("b", async () => (++calls.b, `b${calls.b}`));
      const go = await step.waitForEvent<{ n: number }>("approval", { type: "go", timeout: "1 hour" });
      const c = await step.do("c", async () => (++calls.c, `c${calls.c}`));
      const extra = await caught(step.waitForEvent("extra", { type: "extra", timeout: 1000 }));
      return { a, b, go: go.payload.n, c, extra };
    });
    const instance = await client.create({ id: "restart" });
    // Buffered (no wait for "extra" is open yet): one before the step restarted from first starts, one after.
    await instance.sendEvent({ type: "extra", payload: { dropped: 1 } });
    await settle(host);
    expect((await instance.status()).value).toEqual(["waitForEvent:approval-1"]);
    await instance.sendEvent({ type: "extra", payload: { dropped: 2 } });
    const before = await instance.history();
    const bStarted = ofType(before, "step.started").find((r) => r.data.key === "do:b-1")!.seq;
    expect(ofType(before, "event.received").map((r) => r.seq < bStarted)).toEqual([true, false]);
    await instance.restart({ from: "do:b-1" });
    await settle(host);
    expect(calls).toEqual({ a: 1, b: 2, c: 0 });
    expect((await instance.status()).value).toEqual(["waitForEvent:approval-1"]);
    await instance.sendEvent({ type: "go", payload: { n: 1 } });
    await settle(host);
    expect((await instance.status()).value).toEqual(["waitForEvent:extra-1"]);
    clock.advance(1000);
    await settle(host);
    expect(await instance.status()).toMatchObject({
      status: "complete",
      output: { a: "a1", b: "b2", go: 1, c: "c1", extra: { name: "WorkflowTimeoutError", message: "Execution timed out after 1000ms" } },
    });
    expect(calls).toEqual({ a: 1, b: 2, c: 1 });

    // Restart a finished instance from a later step, named Cloudflare's way ({ name, count = 1, type = "do" }):
    // only that step and what follows run again.
    await expect(instance.restart({ from: { name: "no such step" } })).rejects.toMatchObject({ code: "instance.cannot_restart" });
    await instance.restart({ from: { name: "c" } });
    await settle(host);
    clock.advance(1000);
    await settle(host);
    expect(calls).toEqual({ a: 1, b: 2, c: 2 });
    expect(await instance.status()).toMatchObject({ status: "complete", output: { a: "a1", b: "b2", go: 1, c: "c2" } });
  });
});

describe("crash recovery", () => {
  it("a crash during a step re-runs only that step, with the next attempt number; steps with a recorded result never run again", async () => {
    const firstAttempt = gate<string>();
    const calls = { a: 0, c: 0 };
    const attempts: number[] = [];
    let runs = 0;
    const { host, client } = hostFor(async (_event, step) => {
      runs++;
      const a = await step.do("a", async () => (calls.a++, "a"));
      // limit 0: a crash costs no retry, so the second attempt is still allowed.
      const b = await step.do("b", { retries: { limit: 0, delay: 0 } }, async (ctx) => {
        attempts.push(ctx.attempt);
        return ctx.attempt === 1 ? firstAttempt.promise : `b from attempt ${ctx.attempt}`;
      });
      const c = await step.do("c", async () => (calls.c++, "c"));
      return [a, b, c];
    });
    const instance = await client.create({ id: "crash" });
    await spin();
    expect(attempts).toEqual([1]);
    expect((await instance.status()).value).toEqual(["do:b-1"]);
    host.crash();
    await settle(host);
    // The first attempt's late result is ignored.
    firstAttempt.open("late result");
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: ["a", "b from attempt 2", "c"] });
    expect(attempts).toEqual([1, 2]);
    expect(calls).toEqual({ a: 1, c: 1 });
    expect(runs).toBe(2);
    const started = ofType(await instance.history(), "step.started").map((r) => `${r.data.key}#${r.data.attempt}`);
    expect(started).toEqual(["do:a-1#1", "do:b-1#1", "do:b-1#2", "do:c-1#1"]);
    expect(ofType(await instance.history(), "step.attempt_failed")).toEqual([]);

    host.crash();
    await settle(host);
    expect(calls).toEqual({ a: 1, c: 1 });
    expect(attempts).toEqual([1, 2]);
  });
});

describe("waits, paused time and lifecycle refusals", () => {
  it("waitForEvent without a timeout waits 24 hours, then throws WorkflowTimeoutError", async () => {
    const { host, clock, client } = hostFor(async (_event, step) => caught(step.waitForEvent("approval", { type: "approve" })));
    const instance = await client.create({ id: "default-wait" });
    await settle(host);
    clock.advance(24 * 3_600_000 - 1);
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "waiting", value: ["waitForEvent:approval-1"] });
    clock.advance(1);
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { name: "WorkflowTimeoutError", message: "Execution timed out after 86400000ms" } });
  });

  it("a retry delay paused partway resumes with what was left of it; status says waiting meanwhile", async () => {
    const attempts: number[] = [];
    const { host, clock, client } = hostFor(async (_event, step) =>
      step.do("flaky", { retries: { limit: 1, delay: "10 seconds" } }, async (ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) throw new Error("down");
        return "second attempt";
      }),
    );
    const instance = await client.create({ id: "pause-retry" });
    await settle(host);
    expect((await instance.status()).status).toBe("waiting");
    clock.advance(4_000);
    await instance.pause();
    await settle(host);
    expect((await instance.status()).status).toBe("paused");
    clock.advance(60_000);
    await settle(host);
    expect(attempts).toEqual([1]);
    await instance.resume();
    await settle(host);
    clock.advance(5_999);
    await settle(host);
    expect(attempts).toEqual([1]);
    clock.advance(1);
    await settle(host);
    expect(attempts).toEqual([1, 2]);
    expect(await instance.status()).toMatchObject({ status: "complete", output: "second attempt" });
  });

  it("restart from a step drops the pending timers of the run it cuts, and keeps params and event.timestamp", async () => {
    const seen: { payload: unknown; timestamp: number }[] = [];
    let naps = 0;
    const { host, clock, client } = hostFor<{ order: number }>(async (event, step) => {
      seen.push({ payload: event.payload, timestamp: event.timestamp.getTime() });
      await step.do("a", async () => "a");
      await step.sleep("nap", "1 hour");
      naps++;
      return step.do("b", async () => "b");
    });
    const instance = await client.create({ id: "restart-timers", params: { order: 7 } });
    await settle(host);
    clock.advance(30 * 60_000);
    await instance.restart({ from: { name: "nap", type: "sleep" } });
    await settle(host);
    // The cut run's sleep would have ended now; the new one started at the restart.
    clock.advance(30 * 60_000);
    await settle(host);
    expect(naps).toBe(0);
    expect(await instance.status()).toMatchObject({ status: "waiting", value: ["sleep:nap-1"] });
    clock.advance(30 * 60_000);
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: "b" });
    expect(ofType(await instance.history(), "timer.fired")).toHaveLength(1);
    expect(seen).toEqual([
      { payload: { order: 7 }, timestamp: START },
      { payload: { order: 7 }, timestamp: START },
    ]);
  });

  it("refuses resume() of an instance that is not paused, terminate() of a finished one and a restart from an unknown step, writing nothing", async () => {
    const { host, client } = hostFor(async (_event, step) => {
      await step.waitForEvent("go", { type: "go" });
      return "done";
    });
    const instance = await client.create({ id: "refusals" });
    await settle(host);
    const refusal = async (call: () => Promise<unknown>) => {
      const before = await instance.history();
      const error = await call().then(() => undefined, (e: unknown) => e as { code: string; message: string });
      expect(await instance.history()).toEqual(before);
      return error;
    };
    expect(await refusal(() => instance.resume())).toMatchObject({ code: "instance.cannot_resume", message: expect.stringContaining('with status "waiting"') });
    expect(await refusal(() => instance.restart({ from: { name: "go" } }))).toMatchObject({ code: "instance.cannot_restart" });
    await instance.sendEvent({ type: "go" });
    await settle(host);
    expect((await instance.status()).status).toBe("complete");
    expect(await refusal(() => instance.terminate())).toMatchObject({ code: "instance.cannot_terminate" });
    expect(await refusal(() => instance.resume())).toMatchObject({ code: "instance.cannot_resume", message: expect.stringContaining('with status "complete"') });
    expect(await refusal(() => instance.sendEvent({ type: "go" }))).toMatchObject({ code: "instance.finished" });
  });
});
