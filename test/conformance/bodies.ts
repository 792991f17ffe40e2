import type { WorkflowEvent, WorkflowStep } from "../../index";
import { NonRetryableError } from "../../index";
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
}

const ledger = (env: TestEnv) => env.RUN_LEDGER.get(env.RUN_LEDGER.idFromName("ledger"));
const ran = (env: TestEnv, event: WorkflowEvent<Params>, name: string) => ledger(env).ran(`${event.instanceId}:${name}`);
const note = (env: TestEnv, event: WorkflowEvent<Params>, text: string) => ledger(env).note(`${event.instanceId}:rollbacks`, text);

/** A step whose rollback handler notes what it was given. */
const undoable = (env: TestEnv, event: WorkflowEvent<Params>, name: string) => ({
  rollback: async ({ ctx, error, output, stepName }: { ctx: { step: { name: string; count: number }; attempt: number }; error: Error; output: unknown; stepName: string }) => {
    await note(env, event, JSON.stringify({ step: ctx.step, attempt: ctx.attempt, error: `${error.name}|${error.message}`, output: output ?? null, stepName }));
  },
  rollbackConfig: { retries: { limit: 0, delay: 0 } },
});

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
  held: async (event, step, env) => {
    await step.do("first", async () => (await ran(env, event, "first"), 1));
    await step.waitForEvent("go", { type: "go", timeout: "1 minute" });
    await step.do("second", async () => (await ran(env, event, "second"), 2));
    await step.sleep("nap", 300);
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
} satisfies Record<string, Body>;

export type BodyName = keyof typeof bodies;
