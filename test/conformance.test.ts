import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { BodyName, Params } from "./conformance/bodies";
import { until } from "./until";
import { workflows } from "./worker";

/**
 * Differential tests: each body runs as a class on Cloudflare's local
 * Workflows engine (a [[workflows]] binding, in this same workerd) and on
 * ours, with the same params and events. We compare final status, output,
 * error and how many times each callback ran. Where the engines differ on
 * purpose, the test says so and why.
 */
interface Observed {
  status: string;
  output?: unknown;
  error?: { name: string; message: string };
}

interface Handle {
  subscribe(): Promise<{ next(): Promise<IteratorResult<Record<string, unknown>, void>> }>;
  status(): Promise<Observed>;
  sendEvent(event: { type: string; payload?: unknown }): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  terminate(options?: { rollback?: boolean }): Promise<void>;
  restart(): Promise<void>;
}

interface Engine {
  name: "cloudflare" | "ours";
  create(body: BodyName, id: string, params: Params): Promise<Handle>;
}

const binding = (body: BodyName) => `CF_${body.replace(/([A-Z])/g, "_$1").toUpperCase()}`;

const cloudflare: Engine = {
  name: "cloudflare",
  async create(body, id, params) {
    const workflow = (env as unknown as Record<string, Workflow<Params>>)[binding(body)]!;
    const instance = await workflow.create({ id, params });
    return {
      status: async () => {
        const { status, output, error } = await instance.status();
        return { status, ...(status === "complete" ? { output } : {}), ...(error ? { error: { name: error.name, message: error.message } } : {}) };
      },
      sendEvent: (event) => instance.sendEvent(event as { type: string; payload: unknown }),
      subscribe: () => (instance as unknown as { subscribe(): Promise<{ next(): Promise<IteratorResult<Record<string, unknown>, void>> }> }).subscribe(),
      pause: () => instance.pause(),
      resume: () => instance.resume(),
      terminate: (options) => (instance.terminate as (options?: { rollback?: boolean }) => Promise<void>)(options),
      restart: () => instance.restart(),
    };
  },
};

const ours: Engine = {
  name: "ours",
  async create(body, id, params) {
    const instance = await workflows.client(env).workflow(`dm-${body}`).create({ id, params });
    return {
      status: async () => {
        const { status, output, error } = await instance.status();
        return { status, ...(output === undefined ? {} : { output }), ...(error ? { error } : {}) };
      },
      sendEvent: (event) => instance.sendEvent(event),
      subscribe: () => instance.subscribe() as never,
      pause: () => instance.pause(),
      resume: () => instance.resume(),
      terminate: (options) => instance.terminate(options),
      restart: () => instance.restart(),
    };
  },
};

const FINAL = new Set(["complete", "errored", "terminated"]);
const ledger = () => env.RUN_LEDGER.get(env.RUN_LEDGER.idFromName("ledger"));
let serial = 0;

interface Run {
  final: Observed;
  /** Distinct statuses seen while polling, in order. */
  seen: string[];
  runs(step: string): Promise<number>;
  /** What each rollback handler was given, in the order they ran. */
  rollbacks(): Promise<unknown[]>;
  /** Every event subscribe() delivered, as [type, stepName, attempt]. */
  events: [unknown, unknown, unknown][];
}

/** Runs one scenario on one engine: create, then `drive` (events, pause…), then wait for a final status. */
async function scenario(engine: Engine, body: BodyName, params: Params, drive?: (instance: Handle, seen: string[]) => Promise<void>): Promise<Run> {
  const id = `${engine.name === "cloudflare" ? "cf" : "dm"}-${body}-${++serial}`;
  const instance = await engine.create(body, id, params);
  const subscription = await instance.subscribe();
  const events: [unknown, unknown, unknown][] = [];
  const collected = (async () => {
    try {
      for (;;) {
        const next = await subscription.next();
        if (next.done) return;
        events.push([next.value.type, next.value.stepName ?? null, next.value.attempt ?? null]);
      }
    } catch (error) {
      // Cloudflare's local engine breaks its own subscriptions when it aborts itself (a NonRetryableError, a terminate).
      events.push(["subscription broken", String(error), null]);
    }
  })();
  const seen: string[] = [];
  const watch = async () => {
    const status = await instance.status();
    if (seen.at(-1) !== status.status) seen.push(status.status);
    return status;
  };
  await drive?.({ ...instance, status: watch }, seen);
  const final = await until(watch, (s) => FINAL.has(s.status), `${id} to finish`, 1500);
  await collected;
  return {
    final,
    seen,
    events,
    runs: (step) => ledger().count(`${id}:${step}`),
    rollbacks: async () => (await ledger().notes(`${id}:rollbacks`)).map((text) => JSON.parse(text)),
  };
}

async function onBoth(body: BodyName, params: Params = {}, drive?: (instance: Handle, seen: string[]) => Promise<void>) {
  const [theirs, mine] = await Promise.all([scenario(cloudflare, body, params, drive), scenario(ours, body, params, drive)]);
  return { theirs, mine };
}

async function sameRuns(theirs: Run, mine: Run, steps: string[]) {
  for (const step of steps) expect(await mine.runs(step), `runs of ${step}`).toBe(await theirs.runs(step));
}

const waitFor = (instance: Handle, status: string) => until(() => instance.status(), (s) => s.status === status, status);

describe("conformance with Cloudflare's local Workflows engine", () => {
  it("sequential steps: same output, each callback once, and the same events from subscribe()", async () => {
    const { theirs, mine } = await onBoth("sequential");
    expect(mine.final).toEqual(theirs.final);
    expect(mine.events).toEqual(theirs.events);
    expect(mine.final).toMatchObject({ status: "complete", output: { a: 1, b: 2, step: { name: "c", count: 1 }, attempt: 1 } });
    await sameRuns(theirs, mine, ["a", "b", "c"]);
  });

  it.each(["constant", "linear", "exponential"] as const)("retries with %s backoff: same attempts and the callback's ctx.config", async (backoff) => {
    const { theirs, mine } = await onBoth("retries", { failTimes: 2, backoff });
    expect(mine.final).toEqual(theirs.final);
    expect(mine.events, "subscribe() events").toEqual(theirs.events);
    expect(mine.final.output).toMatchObject({ out: { attempt: 3, config: { retries: { limit: 3, delay: 20, backoff } } } });
    await sameRuns(theirs, mine, ["flaky"]);
  });

  it("retries exhausted: the step's last error ends the instance", async () => {
    const { theirs, mine } = await onBoth("retries", { failTimes: 10 });
    expect(mine.final).toEqual(theirs.final);
    expect(mine.events, "subscribe() events").toEqual(theirs.events);
    expect(mine.final).toMatchObject({ status: "errored", error: { name: "Error", message: "attempt 4 failed" } });
    await sameRuns(theirs, mine, ["flaky"]);
  });

  it("NonRetryableError: one attempt, instance errored (the message differs on purpose)", async () => {
    const { theirs, mine } = await onBoth("nonRetryable");
    await sameRuns(theirs, mine, ["refuse"]);
    expect(theirs.final.status).toBe("errored");
    expect(mine.final.status).toBe("errored");
    // Cloudflare's engine in workerd keeps the error as thrown from compatibility date 2026-05-14
    // (workflows_preserve_non_retryable_error_message); the local engine under the vitest plugin
    // runs at an old date and still reports the older message. We follow the newer behaviour.
    expect(mine.final.error).toEqual({ name: "NonRetryableError", message: "nope" });
    expect(theirs.final.error?.name).toBe("WorkflowFatalError");
  });

  it("a step failure caught in run(): run() sees the same error, and carries on", async () => {
    const { theirs, mine } = await onBoth("caught");
    expect(mine.final).toEqual(theirs.final);
    expect(mine.events, "subscribe() events").toEqual(theirs.events);
    expect(mine.final.output).toEqual({ name: "TypeError", message: "bad input", recovered: "recovered" });
    await sameRuns(theirs, mine, ["fails", "recover"]);
  });

  it("a custom error class reaches run() as Cloudflare delivers it: name folded into the message", async () => {
    const { theirs, mine } = await onBoth("customError");
    expect(mine.final).toEqual(theirs.final);
    expect(mine.events, "subscribe() events").toEqual(theirs.events);
    expect(mine.final.output).toEqual({ name: "Error", message: "QuotaError: over quota" });
  });

  it("sleep and sleepUntil: durable, then the next step runs once", async () => {
    const until = Date.now() + 400;
    const { theirs, mine } = await onBoth("sleeps", { until });
    expect(mine.final).toEqual(theirs.final);
    expect(mine.events, "subscribe() events").toEqual(theirs.events);
    await sameRuns(theirs, mine, ["after"]);
  });

  it("waitForEvent: an event sent before the wait is kept, one sent during it is delivered, and a timeout throws", async () => {
    const { theirs, mine } = await onBoth("waits", {}, async (instance) => {
      await instance.sendEvent({ type: "go", payload: { n: 1 } });
      await until(() => instance.status(), (s) => s.status !== "queued", "the run to start");
      await new Promise((resolve) => setTimeout(resolve, 100));
      await instance.sendEvent({ type: "go", payload: { n: 2 } });
    });
    expect(mine.final).toEqual(theirs.final);
    expect(mine.events, "subscribe() events").toEqual(theirs.events);
    expect(mine.final.output).toMatchObject({ first: { n: 1 }, second: { n: 2 }, type: "go", timeout: "Error|WorkflowTimeoutError: Execution timed out after 300ms", done: "done" });
    await sameRuns(theirs, mine, ["done"]);
  });

  it("Promise.all and Promise.race over steps: same results, same counts", async () => {
    const { theirs, mine } = await onBoth("fanOut");
    expect(mine.final).toEqual(theirs.final);
    expect(mine.events, "subscribe() events").toEqual(theirs.events);
    await sameRuns(theirs, mine, ["par1", "par2", "par3"]);
  });

  it("a loop of steps with one name: each occurrence is its own step", async () => {
    const { theirs, mine } = await onBoth("loop");
    expect(mine.final).toEqual(theirs.final);
    expect(mine.events, "subscribe() events").toEqual(theirs.events);
    expect(mine.final.output).toBe(15);
    await sameRuns(theirs, mine, ["same1", "same2", "same3", "same4", "same5"]);
  });

  it("pause and resume: nothing runs twice, and the run finishes after resume", async () => {
    const { theirs, mine } = await onBoth("held", {}, async (instance) => {
      await until(() => instance.status(), (s) => s.status === "running" || s.status === "waiting", "the wait");
      await new Promise((resolve) => setTimeout(resolve, 100));
      await instance.pause();
      await waitFor(instance, "paused");
      await instance.sendEvent({ type: "go" });
      await instance.resume();
    });
    expect(mine.final).toEqual(theirs.final);
    expect(mine.events, "subscribe() events").toEqual(theirs.events);
    expect(mine.final).toEqual({ status: "complete", output: 3 });
    await sameRuns(theirs, mine, ["first", "second", "third"]);
  });

  it("terminate: the instance ends terminated and no later step runs", async () => {
    const { theirs, mine } = await onBoth("held", {}, async (instance) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      await instance.terminate();
    });
    expect(mine.final).toEqual(theirs.final);
    expect(mine.final.status).toBe("terminated");
    await sameRuns(theirs, mine, ["first", "second", "third"]);
  });

  it("restart: the run starts over and every step runs again", async () => {
    const { theirs, mine } = await onBoth("held", {}, async (instance) => {
      await instance.sendEvent({ type: "go" });
      await waitFor(instance, "complete");
      await instance.restart();
      await new Promise((resolve) => setTimeout(resolve, 100));
      await instance.sendEvent({ type: "go" });
    });
    expect(mine.final).toEqual(theirs.final);
    expect(mine.events, "subscribe() events").toEqual(theirs.events);
    await sameRuns(theirs, mine, ["first", "second", "third"]);
    expect(await mine.runs("first")).toBe(2);
  });

  it("rollbacks: an error escaping run() undoes every started step with a handler, newest first, and the instance keeps the error", async () => {
    const { theirs, mine } = await onBoth("saga", { failTimes: 1 });
    expect(mine.final).toEqual(theirs.final);
    expect(mine.events, "subscribe() events").toEqual(theirs.events);
    expect(mine.final).toEqual({ status: "errored", error: { name: "TypeError", message: "no courier" } });
    await sameRuns(theirs, mine, ["reserve", "charge", "plain", "ship"]);
    const handled = await mine.rollbacks();
    expect(handled).toEqual(await theirs.rollbacks());
    expect(handled.map((h) => (h as { stepName: string }).stepName)).toEqual(["ship-1", "charge-1", "reserve-1"]);
    expect(handled[1]).toMatchObject({ output: { receipt: 7 }, error: "TypeError|no courier", attempt: 1 });
  });

  it("rollbacks: terminate({ rollback: true }) undoes the started steps, then ends terminated", async () => {
    const { theirs, mine } = await onBoth("saga", { failTimes: 0 }, async (instance) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await instance.terminate({ rollback: true });
    });
    expect(mine.final).toEqual(theirs.final);
    expect(mine.final.status).toBe("terminated");
    await sameRuns(theirs, mine, ["reserve", "charge", "plain", "ship"]);
    expect(await mine.rollbacks()).toEqual(await theirs.rollbacks());
    expect((await mine.rollbacks()).map((h) => (h as { stepName: string }).stepName)).toEqual(["charge-1", "reserve-1"]);
  });

  it("step results that are more than JSON (a Date, a Map, a BigInt, undefined inside) reach run() as themselves", async () => {
    const { theirs, mine } = await onBoth("structured");
    expect(mine.final).toEqual(theirs.final);
    expect(mine.final.output).toEqual({ date: "1970-01-01T00:00:00.000Z", tag: 1, big: "100000000000000000000", keepsMissing: true, at: "1970-01-01T00:00:00.000Z" });
    await sameRuns(theirs, mine, ["rich"]);
  });
});
