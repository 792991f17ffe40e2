import type { WorkflowEvent, WorkflowStep } from "../../index";
import { NonRetryableError } from "../../index";
import { streamedBody } from "../stream-body";
import type { TestEnv } from "../workflows";

/**
 * Workflow bodies written once against Cloudflare's API and run on both
 * engines: each is wrapped in a class for Cloudflare's engine (extending
 * `cloudflare:workers`' WorkflowEntrypoint) and one for ours. Every callback
 * counts its runs in the ledger under `<instance id>:<step>`.
 */
export type Body = (event: WorkflowEvent<Params>, step: WorkflowStep, env: TestEnv) => Promise<unknown>;

export interface Params {
  failTimes?: number;
  backoff?: "constant" | "linear" | "exponential";
  until?: number;
  /** How often the "charge" rollback handler fails, and how often its rollbackConfig retries it. */
  undoFailures?: number;
  undoRetries?: number;
  /** What the delay function does: return a duration, throw, or return something that is not a duration. */
  delayMode?: "returns" | "throws" | "invalid";
  tag?: string;
  /** customError: throw the custom error from run() itself, outside any step. */
  throwOutside?: boolean;
  /** Bytes the "streamed" body's step returns as a ReadableStream. */
  bytes?: number;
  /** How long the "held" body's sleep lasts (300 ms unless given): long where a test moves the clock past it. */
  nap?: number;
}

const ledger = (env: TestEnv) => env.RUN_LEDGER.get(env.RUN_LEDGER.idFromName("ledger"));
const ran = (env: TestEnv, event: WorkflowEvent<Params>, name: string) => ledger(env).ran(`${event.instanceId}:${name}`);
const note = (env: TestEnv, event: WorkflowEvent<Params>, text: string) => ledger(env).note(`${event.instanceId}:rollbacks`, text);
/** Keeps what a run saw under `<instance id>:<what>`, one JSON line per call. */
const seen = (env: TestEnv, event: WorkflowEvent<Params>, what: string, value: unknown) => ledger(env).note(`${event.instanceId}:${what}`, JSON.stringify(value));
const failure = (error: unknown) => `${(error as Error).name}|${(error as Error).message}`;

/** A step whose rollback handler notes what it was given. */
const undoable = (env: TestEnv, event: WorkflowEvent<Params>, name: string) => ({
  rollback: async ({ ctx, error, output, stepName }: { ctx: { step: { name: string; count: number }; attempt: number }; error: Error; output: unknown; stepName: string }) => {
    await note(env, event, JSON.stringify({ step: ctx.step, attempt: ctx.attempt, error: `${error.name}|${error.message}`, output: output ?? null, stepName }));
  },
  rollbackConfig: { retries: { limit: 0, delay: 0 } },
});

/** A rollback handler that fails its first `failures` runs, retried as its rollbackConfig says. */
const flakyUndo = (env: TestEnv, event: WorkflowEvent<Params>, name: string) => ({
  rollback: async ({ ctx }: { ctx: { step: { name: string; count: number }; attempt: number } }) => {
    const runs = await ran(env, event, `undo ${name}`);
    await note(env, event, JSON.stringify({ step: ctx.step, run: runs }));
    if (runs <= (event.payload.undoFailures ?? 0)) throw new Error(`undo ${name} failed (run ${runs})`);
  },
  rollbackConfig: { retries: { limit: event.payload.undoRetries ?? 0, delay: 10, backoff: "constant" as const }, timeout: "1 minute" as const },
});

/** Step configs Cloudflare refuses, and the one it reads differently (an unknown unit, taken as milliseconds by its local engine). */
const badConfigs: Record<string, unknown> = {
  extraKey: { retries: { limit: 1, delay: 10 }, priority: "high" },
  extraRetriesKey: { retries: { limit: 1, delay: 10, jitter: true } },
  noDelay: { retries: { limit: 1 } },
  zeroTimeout: { timeout: 0 },
  unknownBackoff: { retries: { limit: 1, delay: 10, backoff: "quadratic" } },
  negativeLimit: { retries: { limit: -1, delay: 10 } },
  unknownUnit: { retries: { limit: 0, delay: "1 h" } },
};

export const bodies = {
  sequential: async (event, step, env) => {
    const a = await step.do("a", async () => (await ran(env, event, "a"), 1));
    const b = await step.do("b", async () => (await ran(env, event, "b"), a + 1));
    const c = await step.do("c", async (ctx) => (await ran(env, event, "c"), { a, b, step: ctx.step, attempt: ctx.attempt }));
    return c;
  },
  retries: async (event, step, env) => {
    const failTimes = event.payload.failTimes ?? 2;
    const seen: number[] = [];
    const out = await step.do("flaky", { retries: { limit: 3, delay: 20, backoff: event.payload.backoff ?? "constant" }, timeout: "1 minute" }, async (ctx) => {
      const runs = await ran(env, event, "flaky");
      seen.push(ctx.attempt);
      if (runs <= failTimes) throw new Error(`attempt ${ctx.attempt} failed`);
      return { attempt: ctx.attempt, config: ctx.config };
    });
    return { out, seen: seen.length };
  },
  nonRetryable: async (event, step, env) => {
    await step.do("refuse", { retries: { limit: 3, delay: 20 } }, async () => {
      await ran(env, event, "refuse");
      throw new NonRetryableError("nope");
    });
    return "unreachable";
  },
  caught: async (event, step, env) => {
    try {
      await step.do("fails", { retries: { limit: 1, delay: 20 } }, async () => {
        await ran(env, event, "fails");
        throw new TypeError("bad input");
      });
    } catch (error) {
      const recovered = await step.do("recover", async () => (await ran(env, event, "recover"), "recovered"));
      return { name: (error as Error).name, message: (error as Error).message, recovered };
    }
    return "unreachable";
  },
  customError: async (event, step, env) => {
    class QuotaError extends Error {
      constructor(message: string) {
        super(message);
        this.name = "QuotaError";
      }
    }
    if (event.payload.throwOutside) throw new QuotaError("over quota, outside steps");
    try {
      await step.do("quota", { retries: { limit: 0, delay: 0 } }, async () => {
        await ran(env, event, "quota");
        throw new QuotaError("over quota");
      });
    } catch (error) {
      return { name: (error as Error).name, message: (error as Error).message };
    }
    return "unreachable";
  },
  sleeps: async (event, step, env) => {
    await step.sleep("nap", 200);
    await step.sleepUntil("alarm", event.payload.until ?? Date.now() + 200);
    return step.do("after", async () => (await ran(env, event, "after"), "woke"));
  },
  waits: async (event, step, env) => {
    const first = await step.waitForEvent<{ n: number }>("first", { type: "go", timeout: "1 minute" });
    const second = await step.waitForEvent<{ n: number }>("second", { type: "go", timeout: "1 minute" });
    let timeout = "";
    try {
      await step.waitForEvent("late", { type: "never", timeout: 300 });
    } catch (error) {
      timeout = `${(error as Error).name}|${(error as Error).message}`;
    }
    const done = await step.do("done", async () => (await ran(env, event, "done"), "done"));
    return { first: first.payload, second: second.payload, type: first.type, stamped: first.timestamp instanceof Date, timeout, done };
  },
  fanOut: async (event, step, env) => {
    const results = await Promise.all([1, 2, 3].map((i) => step.do("par", async (ctx) => (await ran(env, event, `par${i}`), `${i}:${ctx.step.count}`))));
    const raced = await Promise.race([step.do("fast", async () => "fast"), new Promise((resolve) => setTimeout(() => resolve("timer"), 5000))]);
    return { results, raced };
  },
  loop: async (event, step, env) => {
    let total = 0;
    for (let i = 0; i < 5; i++) total += await step.do("same", async (ctx) => (await ran(env, event, `same${ctx.step.count}`), ctx.step.count));
    return total;
  },
  /** Counts its own passes ("run"); "held" stays in flight until the test releases `<instance id>:held`. */
  pausable: async (event, step, env) => {
    await ran(env, event, "run");
    const held = await step.do("held", async () => (await ran(env, event, "held"), await ledger(env).hold(`${event.instanceId}:held`), 1));
    return step.do("next", async () => (await ran(env, event, "next"), held + 1));
  },
  held: async (event, step, env) => {
    await step.do("first", async () => (await ran(env, event, "first"), 1));
    await step.waitForEvent("go", { type: "go", timeout: "1 minute" });
    await step.do("second", async () => (await ran(env, event, "second"), 2));
    await step.sleep("nap", event.payload.nap ?? 300);
    return step.do("third", async () => (await ran(env, event, "third"), 3));
  },
  structured: async (event, step, env) => {
    const value = await step.do("rich", async () => (await ran(env, event, "rich"), { at: new Date(0), tags: new Map([["a", 1]]), big: 10n ** 20n, missing: undefined }));
    return { date: value.at instanceof Date && value.at.toISOString(), tag: value.tags.get("a"), big: String(value.big), keepsMissing: "missing" in value, at: value.at };
  },
  saga: async (event, step, env) => {
    await step.do("reserve", async () => (await ran(env, event, "reserve"), "room 12"), undoable(env, event, "reserve"));
    await step.do("charge", async () => (await ran(env, event, "charge"), { receipt: 7 }), undoable(env, event, "charge"));
    await step.do("plain", async () => (await ran(env, event, "plain"), "no handler"));
    if (event.payload.failTimes === 0) await step.waitForEvent("confirm", { type: "confirm", timeout: "1 minute" });
    await step.do("ship", { retries: { limit: 0, delay: 0 } }, async () => {
      await ran(env, event, "ship");
      throw new TypeError("no courier");
    }, undoable(env, event, "ship"));
    return "unreachable";
  },
  sagaChain: async (event, step, env) => {
    await step.do("reserve", async () => (await ran(env, event, "reserve"), "room 12"), undoable(env, event, "reserve"));
    await step.do("charge", async () => (await ran(env, event, "charge"), { receipt: 7 }), flakyUndo(env, event, "charge"));
    await step.do("ship", async () => (await ran(env, event, "ship"), "shipped"), undoable(env, event, "ship"));
    throw new TypeError("parcel lost");
  },
  stepInRollback: async (event, step, env) => {
    await step.do("book", async () => (await ran(env, event, "book"), "booked"), {
      rollback: async () => {
        const attempts = {
          do: await step.do("inside", async () => (await ran(env, event, "inside"), "ran")).then(String, failure),
          sleep: await step.sleep("inside nap", 10).then(() => "slept", failure),
          waitForEvent: await step.waitForEvent("inside wait", { type: "go", timeout: 10 }).then(() => "received", failure),
        };
        await note(env, event, JSON.stringify(attempts));
      },
      rollbackConfig: { retries: { limit: 0, delay: 0 }, timeout: "1 minute" },
    });
    throw new TypeError("cancelled");
  },
  restartable: async (event, step, env) => {
    await seen(env, event, "stamps", { at: event.timestamp.getTime(), params: event.payload });
    const a = await step.do("a", async () => (await ran(env, event, "a"), "a"));
    const b = await step.do("b", async () => (await ran(env, event, "b"), "b"));
    const go = await step.waitForEvent<{ n: number }>("go", { type: "go", timeout: "1 minute" });
    await step.sleep("nap", 50);
    const c = await step.do("c", async () => (await ran(env, event, "c"), "c"));
    const extra = await step.waitForEvent("extra", { type: "extra", timeout: 200 }).then((e) => e.payload, failure);
    return { a, b, go: go.payload.n, c, extra, tag: event.payload.tag };
  },
  contexts: async (event, step, env) => {
    const plain = await step.do("plain", async (ctx) => (await ran(env, event, "plain"), ctx));
    const again = await step.do("plain", async (ctx) => ctx.step);
    const custom = await step.do("custom", { retries: { limit: 2, delay: "5 seconds", backoff: "linear" }, timeout: "30 seconds" }, async (ctx) => ctx);
    const dynamic = await step.do("dynamic", { retries: { limit: 1, delay: () => 10 } }, async (ctx) => ctx);
    const secret = await step.do("secret", { sensitive: "output", timeout: 5000 }, async (ctx) => ctx.config);
    return { plain, again, custom, dynamic, secret };
  },
  delays: async (event, step, env) => {
    const mode = event.payload.delayMode ?? "returns";
    return step
      .do(
        "flaky",
        {
          retries: {
            limit: 2,
            backoff: event.payload.backoff ?? "constant",
            delay: async ({ ctx, error }: { ctx: { attempt: number; step: { name: string; count: number }; config: unknown }; error: Error }) => {
              await seen(env, event, "delay calls", { attempt: ctx.attempt, step: ctx.step, config: ctx.config, error: failure(error) });
              if (mode === "throws") throw new RangeError("no delay for you");
              return (mode === "invalid" ? "soon" : 20) as never;
            },
          },
        },
        async (ctx) => {
          await ran(env, event, "flaky");
          if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt} failed`);
          return ctx.attempt;
        },
      )
      .then((attempt) => ({ attempt }), (error) => ({ error: failure(error) }));
  },
  configs: async (event, step, env) => {
    const outcomes: Record<string, string> = {};
    for (const [label, config] of Object.entries(badConfigs)) {
      outcomes[label] = await step.do(label, config as never, async () => (await ran(env, event, label), "ran")).then(String, failure);
    }
    const badRollback = async (options: unknown) => step.do("rolled", async () => "ok", options as never).then(String, failure);
    outcomes.rollbackNotObject = await badRollback(5);
    outcomes.rollbackNotFunction = await badRollback({ rollback: "undo" });
    outcomes.rollbackBadConfig = await badRollback({ rollback: async () => undefined, rollbackConfig: { timeout: 0 } });
    outcomes.noCallback = await step.do("noCallback", {} as never).then(String, failure);
    return outcomes;
  },
  names: async (event, step, env) => {
    const long = "n".repeat(257);
    return {
      doLong: await step.do(long, async () => (await ran(env, event, "long"), "ran")).then(String, failure),
      doNewline: await step.do("line\nbreak", async () => "ran").then(String, failure),
      do256: await step.do("n".repeat(256), async () => "ran").then(String, failure),
      doEmpty: await step.do("", async () => "ran").then(String, failure),
      sleepLong: await step.sleep(long, 10).then(() => "slept", failure),
      waitLong: await step.waitForEvent(long, { type: "go", timeout: 10 }).then(() => "received", failure),
    };
  },
  limited: async (event, step, env) => {
    for (let i = 1; i <= 3; i++) await step.do(`s${i}`, async () => (await ran(env, event, `s${i}`), i));
    await step.sleep("nap", 10);
    await step.waitForEvent("w", { type: "go", timeout: 10 }).catch(() => undefined);
    return step.do("fourth", async () => (await ran(env, event, "fourth"), 4)).then(String, failure);
  },
  untilReplay: async (event, step, env) => {
    // A deadline that stays the same on every replay: 500 ms after the instance was created, which the run reaches first on a slow machine too.
    await step.sleepUntil("soon", event.timestamp.getTime() + 500);
    await step.waitForEvent("go", { type: "go", timeout: "1 minute" });
    return step.do("after", async () => (await ran(env, event, "after"), "woke"));
  },
  consumedOnce: async (event, step) => {
    const first = await step.waitForEvent<{ n: number }>("first", { type: "go", timeout: "1 minute" });
    await step.sleep("hold", 300);
    const second = await step.waitForEvent<{ n: number }>("second", { type: "go", timeout: 300 }).then((e) => e.payload, failure);
    return { first: first.payload, second };
  },
  sleepNames: async (_event, step) => {
    await step.sleep("nap", 10);
    await step.sleep("nap", 20);
    await step.sleep("nap", 10);
    return "rested";
  },
  outsideLimits: async (event, step, env) => {
    const long = await Promise.race([step.sleep("long", "366 days").then(() => "slept", failure), step.sleep("short", 50).then(() => "short sleep won")]);
    await seen(env, event, "long sleep", long);
    const big = await step.do("big", async () => "x".repeat(1024 * 1024 + 512)).then((value) => value.length, failure);
    return { long, big };
  },
  returnsNothing: async (_event, step) => {
    await step.waitForEvent("go", { type: "go", timeout: "1 minute" });
  },
  richOutput: async () => ({ at: new Date(0), missing: undefined, tags: new Map([["a", 1]]), ids: new Set([1]), big: 10n, bytes: new Uint8Array([1, 2]), pattern: /x/g, holes: [undefined, 1] }),
  shapes: async (_event, step) => {
    const received = await step.waitForEvent<{ n: number }>("w", { type: "go", timeout: "1 minute" });
    return { keys: Object.keys(received).sort(), type: received.type, payload: received.payload, stamped: received.timestamp instanceof Date };
  },
  streamed: (event, step, env) => streamedBody(event, step, env),
} satisfies Record<string, Body>;

export type BodyName = keyof typeof bodies;
