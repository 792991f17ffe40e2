import { describe, expect, it } from "vitest";
import {
  createManualClock,
  createMemoryHost,
  defineWorkflow,
  NonRetryableError,
  WorkflowEntrypoint,
  type CodeWorkflowOptions,
  type LogRecord,
  type WorkflowEvent,
  type WorkflowStep,
} from "../../index";

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function hostFor(entrypoint: CodeWorkflowOptions["entrypoint"], name = "code") {
  const clock = createManualClock(1_000_000);
  const host = createMemoryHost({ workflows: [defineWorkflow({ name, entrypoint })], clock });
  return { host, clock, client: host.workflow(name) };
}

async function settle(host: { idle(): Promise<void> }) {
  for (let i = 0; i < 5; i++) {
    await flush();
    await host.idle();
  }
}

const types = (log: LogRecord[]) => log.map((r) => r.type);

describe("code-first workflows on the memory host", () => {
  it("runs sequential steps, records each result once, and completes with run()'s return value", async () => {
    const calls: string[] = [];
    class Sequential extends WorkflowEntrypoint<unknown, { n: number }> {
      async run(event: WorkflowEvent<{ n: number }>, step: WorkflowStep) {
        const a = await step.do("a", async () => (calls.push("a"), event.payload.n + 1));
        const b = await step.do("b", async (ctx) => (calls.push("b"), { a, attempt: ctx.attempt, name: ctx.step }));
        return { a, b };
      }
    }
    const { host, client } = hostFor(Sequential);
    const instance = await client.create({ id: "s1", params: { n: 1 } });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { a: 2, b: { a: 2, attempt: 1, name: { name: "b", count: 1 } } } });
    expect(calls).toEqual(["a", "b"]);
    host.crash();
    await settle(host);
    expect(calls).toEqual(["a", "b"]);
    expect(types(await instance.history())).toEqual(["instance.created", "step.started", "step.succeeded", "step.started", "step.succeeded", "instance.completed"]);
  });

  it("retries with the configured backoff and throws the final failure into run()", async () => {
    const attempts: number[] = [];
    class Flaky extends WorkflowEntrypoint {
      async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
        try {
          await step.do("flaky", { retries: { limit: 2, delay: 1000, backoff: "exponential" } }, async (ctx) => {
            attempts.push(ctx.attempt);
            throw new TypeError(`no ${ctx.attempt}`);
          });
        } catch (error) {
          return { caught: (error as Error).name, message: (error as Error).message };
        }
        return "unreachable";
      }
    }
    const { host, clock, client } = hostFor(Flaky);
    const instance = await client.create({ id: "f1" });
    await settle(host);
    clock.advance(1000);
    await settle(host);
    clock.advance(2000);
    await settle(host);
    expect(attempts).toEqual([1, 2, 3]);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { caught: "TypeError", message: "no 3" } });
    const failures = (await instance.history()).filter((r) => r.type === "step.attempt_failed") as LogRecord<"step.attempt_failed">[];
    expect(failures.map((r) => (r.data.retryAt === undefined ? undefined : r.data.retryAt - r.at))).toEqual([1000, 2000, undefined]);
  });

  it("NonRetryableError fails at once and, uncaught, errors the instance with its name", async () => {
    let runs = 0;
    class Refuses extends WorkflowEntrypoint {
      async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
        await step.do("refuse", async () => {
          runs++;
          throw new NonRetryableError("nope");
        });
      }
    }
    const { host, client } = hostFor(Refuses);
    const instance = await client.create({ id: "n1" });
    await settle(host);
    expect(runs).toBe(1);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { name: "NonRetryableError", message: "nope" } });
  });

  it("sleeps durably, waits for events sent before and after the wait, and times out as Cloudflare does", async () => {
    class Waits extends WorkflowEntrypoint {
      async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
        await step.sleep("nap", "1 minute");
        const first = await step.waitForEvent<{ n: number }>("first", { type: "go", timeout: "1 hour" });
        const second = await step.waitForEvent<{ n: number }>("second", { type: "go", timeout: "1 hour" });
        let timedOut = "";
        try {
          await step.waitForEvent("never", { type: "nothing", timeout: 5000 });
        } catch (error) {
          timedOut = `${(error as Error).name}: ${(error as Error).message}`;
        }
        return { first: first.payload.n, second: second.payload.n, timedOut, when: first.timestamp instanceof Date };
      }
    }
    const { host, clock, client } = hostFor(Waits);
    const instance = await client.create({ id: "w1" });
    await settle(host);
    await instance.sendEvent({ type: "go", payload: { n: 1 } });
    expect((await instance.status()).status).toBe("waiting");
    clock.advance(60_000);
    await settle(host);
    await instance.sendEvent({ type: "go", payload: { n: 2 } });
    await settle(host);
    clock.advance(5000);
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { first: 1, second: 2, timedOut: "WorkflowTimeoutError: Execution timed out after 5000ms", when: true } });
  });

  it("Promise.all over steps of one name counts them in call order", async () => {
    class Fan extends WorkflowEntrypoint {
      async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
        return Promise.all([1, 2, 3].map((i) => step.do("par", async (ctx) => `${i}:${ctx.step.count}`)));
      }
    }
    const { host, client } = hostFor(Fan);
    const instance = await client.create({ id: "p1" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: ["1:1", "2:2", "3:3"] });
    const started = (await instance.history()).filter((r) => r.type === "step.started").map((r) => (r as LogRecord<"step.started">).data.key);
    expect(started).toEqual(["do:par-1", "do:par-2", "do:par-3"]);
  });
});
