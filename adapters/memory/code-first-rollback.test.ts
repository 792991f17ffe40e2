import { describe, expect, it } from "vitest";
import { createManualClock, createMemoryHost, defineWorkflow, WorkflowEntrypoint, type LogRecord, type WorkflowEvent, type WorkflowStep } from "../../index";

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
async function settle(host: { idle(): Promise<void> }) {
  for (let i = 0; i < 8; i++) {
    await flush();
    await host.idle();
  }
}

interface Seen {
  key: string;
  attempt: number;
  error: string;
  output: unknown;
  stepName: string;
}

function saga(seen: Seen[], options: { failUndo?: string; failFor?: number; waitAtEnd?: boolean; throwAtEnd?: boolean } = {}) {
  const undo = (name: string) => ({
    rollback: async ({ ctx, error, output, stepName }: { ctx: { step: { name: string; count: number }; attempt: number }; error: Error; output: unknown; stepName: string }) => {
      seen.push({ key: `${ctx.step.name}-${ctx.step.count}`, attempt: ctx.attempt, error: `${error.name}: ${error.message}`, output, stepName });
      if (options.failUndo === name && seen.filter((s) => s.key === stepName).length <= (options.failFor ?? Infinity)) throw new Error(`cannot undo ${name}`);
    },
    rollbackConfig: { retries: { limit: 1, delay: 100, backoff: "constant" as const } },
  });
  return class extends WorkflowEntrypoint {
    async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
      await step.do("reserve", async () => "room", undo("reserve"));
      await step.do("charge", async () => "receipt", undo("charge"));
      await step.do("plain", async () => "no handler");
      if (options.waitAtEnd) await step.waitForEvent("confirm", { type: "confirm" });
      await step.do("ship", async () => {
        throw new TypeError("no courier");
      }, undo("ship"));
      return "unreachable";
    }
  };
}

/** Moves time a minute at a time until `done` holds (each move lets one retry or rollback retry run). */
async function driveUntil(host: { idle(): Promise<void> }, clock: { advance(ms: number): void }, done: () => Promise<boolean>) {
  for (let i = 0; i < 50 && !(await done()); i++) {
    await settle(host);
    clock.advance(60_000);
    await settle(host);
  }
}

const ended = (instance: { status(): Promise<{ status: string }> }) => async () => ["errored", "terminated", "complete"].includes((await instance.status()).status);

function hostFor(entrypoint: ReturnType<typeof saga>) {
  const clock = createManualClock(1_000_000);
  const host = createMemoryHost({ workflows: [defineWorkflow({ name: "saga", entrypoint })], clock });
  return { host, clock, client: host.workflow("saga") };
}

const types = (log: LogRecord[]) => log.map((r) => r.type).filter((t) => t.startsWith("rollback") || t.startsWith("instance."));

describe("code-first rollbacks (saga)", () => {
  it("an error escaping run() rolls back every started step with a handler, newest first, then ends errored with the original error", async () => {
    const seen: Seen[] = [];
    const { host, clock, client } = hostFor(saga(seen));
    const instance = await client.create({ id: "s1" });
    await driveUntil(host, clock, ended(instance));
    expect(seen.map((s) => s.key)).toEqual(["ship-1", "charge-1", "reserve-1"]);
    expect(seen[0]).toEqual({ key: "ship-1", attempt: 6, error: "TypeError: no courier", output: undefined, stepName: "ship-1" });
    expect(seen[1]).toMatchObject({ attempt: 1, output: "receipt" });
    expect(await instance.status()).toMatchObject({ status: "errored", error: { name: "TypeError", message: "no courier" } });
    expect(types(await instance.history())).toEqual([
      "instance.created",
      "rollback.started",
      "rollback.step.started",
      "rollback.step.succeeded",
      "rollback.step.started",
      "rollback.step.succeeded",
      "rollback.step.started",
      "rollback.step.succeeded",
      "rollback.completed",
      "instance.errored",
    ]);
  });

  it("a handler that fails for good stops the chain; the instance keeps the original error", async () => {
    const seen: Seen[] = [];
    const { host, clock, client } = hostFor(saga(seen, { failUndo: "charge" }));
    const instance = await client.create({ id: "s2" });
    await driveUntil(host, clock, ended(instance));
    expect(seen.map((s) => s.key)).toEqual(["ship-1", "charge-1", "charge-1"]);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { name: "TypeError", message: "no courier" } });
    const log = await instance.history();
    expect(types(log).slice(-3)).toEqual(["rollback.step.failed", "rollback.errored", "instance.errored"]);
    expect(log.filter((r) => r.type === "rollback.step.attempt_failed")).toHaveLength(2);
  });

  it("a handler is retried as its rollbackConfig says", async () => {
    const seen: Seen[] = [];
    const { host, clock, client } = hostFor(saga(seen, { failUndo: "charge", failFor: 1 }));
    const instance = await client.create({ id: "s3" });
    await driveUntil(host, clock, ended(instance));
    expect(seen.map((s) => s.key)).toEqual(["ship-1", "charge-1", "charge-1", "reserve-1"]);
    expect((await instance.status()).status).toBe("errored");
  });

  it("terminate({ rollback: true }) undoes the started steps, then ends terminated", async () => {
    const seen: Seen[] = [];
    const { host, client } = hostFor(saga(seen, { waitAtEnd: true }));
    const instance = await client.create({ id: "s4" });
    await settle(host);
    expect((await instance.status()).status).toBe("waiting");
    await instance.terminate({ rollback: true });
    await settle(host);
    expect(seen.map((s) => s.key)).toEqual(["charge-1", "reserve-1"]);
    expect(seen[0]!.error).toBe("Error: Instance terminated during rollback");
    expect((await instance.status()).status).toBe("terminated");
    expect(types(await instance.history()).slice(-2)).toEqual(["rollback.completed", "instance.terminated"]);
  });

  it("a crash in the middle of a rollback resumes it: handlers that finished do not run again", async () => {
    const seen: Seen[] = [];
    const { host, clock, client } = hostFor(saga(seen, { failUndo: "charge", failFor: 1 }));
    const instance = await client.create({ id: "s5" });
    await driveUntil(host, clock, async () => seen.length === 2);
    expect(seen.map((s) => s.key)).toEqual(["ship-1", "charge-1"]);
    expect((await instance.status()).status).toBe("rollingBack");
    host.crash();
    await settle(host);
    // The retry's time is in the log: the recovered instance waits for it rather than retrying at once.
    expect(seen.map((s) => s.key)).toEqual(["ship-1", "charge-1"]);
    expect((await instance.status()).status).toBe("rollingBack");
    clock.advance(1000);
    await settle(host);
    expect(seen.map((s) => s.key)).toEqual(["ship-1", "charge-1", "charge-1", "reserve-1"]);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { message: "no courier" } });
    // Attempts go on from the log: the crash cost the handler no retry.
    const started = (await instance.history()).filter((r) => r.type === "rollback.step.started") as LogRecord<"rollback.step.started">[];
    expect(started.map((r) => `${r.data.key}#${r.data.attempt}`)).toEqual(["do:ship-1#1", "do:charge-1#1", "do:charge-1#2", "do:reserve-1#1"]);
  });

  it("a handler's own step calls are refused with Cloudflare's message; nothing they ask for runs or reaches the log", async () => {
    const refusals: string[] = [];
    let insideRuns = 0;
    class Inside extends WorkflowEntrypoint {
      async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
        await step.do("book", async () => "booked", {
          rollback: async () => {
            const refused = (error: Error) => void refusals.push(`${error.name}: ${error.message}`);
            await step.do("inside", async () => void insideRuns++).catch(refused);
            await step.sleep("inside nap", 10).catch(refused);
            await step.sleepUntil("inside alarm", Date.now() + 10).catch(refused);
            await step.waitForEvent("inside wait", { type: "go", timeout: 10 }).catch(refused);
          },
        });
        throw new TypeError("cancelled");
      }
    }
    const { host, client } = hostFor(Inside as never);
    const instance = await client.create({ id: "s7" });
    await settle(host);
    expect(refusals).toEqual(Array(4).fill("WorkflowFatalError: Cannot execute steps during rollback phase"));
    expect(insideRuns).toBe(0);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { name: "TypeError", message: "cancelled" } });
    const log = await instance.history();
    expect(log.filter((r) => r.type === "step.started" || r.type === "timer.started" || r.type === "wait.started").map((r) => r.type)).toEqual(["step.started"]);
    expect(types(log).slice(-3)).toEqual(["rollback.step.succeeded", "rollback.completed", "instance.errored"]);
  });

  it("refuses rollback options Cloudflare refuses, with its messages", async () => {
    const messages: string[] = [];
    class Bad extends WorkflowEntrypoint {
      async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
        for (const options of [5, { rollback: "nope" }, { rollback: async () => undefined, rollbackConfig: { retries: { limit: -1, delay: 1 } } }]) {
          await step.do("x", async () => 1, options as never).catch((error: Error) => messages.push(`${error.name}: ${error.message}`));
        }
        return messages;
      }
    }
    const { host, client } = hostFor(Bad as never);
    const instance = await client.create({ id: "s6" });
    await settle(host);
    expect((await instance.status()).output).toEqual([
      'WorkflowFatalError: Rollback options for "x" must be an object',
      'WorkflowFatalError: Rollback for "x" must be a function',
      'WorkflowFatalError: Rollback config for "x" is in a invalid format. See https://developers.cloudflare.com/workflows/build/sleeping-and-retrying/',
    ]);
  });
});
