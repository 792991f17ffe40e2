import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { setup } from "xstate";
import {
  createManualClock,
  createMemoryHost,
  defineWorkflow,
  MemoryStorage,
  step,
  WorkflowEntrypoint,
  type AnyWorkflowDefinition,
  type LogRecord,
  type WorkflowEvent,
  type WorkflowStep,
} from "../../index";
import { FAULT_RETRY_MS } from "../../runtime/host-fault";
import type { InstanceStore } from "../../runtime/store";

/**
 * Host faults in work no request waits on: a store write that throws once while a step's result, run()'s end, a
 * rollback or a timer is recorded. Each must leave a logged error and an instance that reloads from its log on its
 * own and finishes, never an unhandled rejection and an instance that stands still until something evicts it.
 */

/** Storage whose next write holding a record of a given type throws, once, as a full disk or a reset SQLite would. */
class FailingStorage extends MemoryStorage {
  private readonly failing = new Set<string>();

  failNext(type: LogRecord["type"]): void {
    this.failing.add(type);
  }

  override store(workflow: string, id: string): InstanceStore {
    const store = super.store(workflow, id);
    return {
      ...store,
      append: (records) => {
        const hit = records.find((record) => this.failing.has(record.type));
        if (hit) {
          this.failing.delete(hit.type);
          throw new Error(`disk full while writing ${hit.type}`);
        }
        store.append(records);
      },
    };
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function settle(host: { idle(): Promise<void> }) {
  for (let i = 0; i < 5; i++) {
    await flush();
    await host.idle();
  }
}

/** Settles until `read` gives what `done` wants: a terminate's saga resumes a timer turn after the replay, not a promise turn. */
async function settleUntil<T>(host: { idle(): Promise<void> }, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await read();
    if (done(value)) return value;
    await settle(host);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return read();
}

function hostWith(workflow: AnyWorkflowDefinition) {
  const clock = createManualClock(1_000_000);
  const storage = new FailingStorage();
  const host = createMemoryHost({ workflows: [workflow], clock, storage });
  return { clock, storage, host, client: host.workflow(workflow.name) };
}

type Body = (event: WorkflowEvent<unknown>, step: WorkflowStep) => Promise<unknown>;

function codeFirst(body: Body) {
  return defineWorkflow({
    name: "faulty",
    entrypoint: class extends WorkflowEntrypoint {
      async run(event: WorkflowEvent<unknown>, step: WorkflowStep) {
        return body(event, step);
      }
    },
  });
}

const typesOf = (log: LogRecord[]) => log.map((record) => record.type);

let logged: MockInstance<typeof console.error>;
beforeEach(() => {
  logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
});
afterEach(() => logged.mockRestore());

/** The fault was logged once, naming the instance and the failed write. */
function expectLoggedFault(id: string, type: LogRecord["type"]) {
  expect(logged).toHaveBeenCalledTimes(1);
  expect(logged.mock.calls[0]![0]).toContain(`instance "${id}"`);
  expect(String(logged.mock.calls[0]![1])).toContain(`disk full while writing ${type}`);
}

describe("code-first: a failed write in the background is logged and retried from the log", () => {
  it("a step's result that could not be written: the step runs again once the instance reloads", async () => {
    let calls = 0;
    const { clock, storage, host, client } = hostWith(codeFirst(async (_event, step) => step.do("a", async () => ++calls)));
    storage.failNext("step.succeeded");
    const instance = await client.create({ id: "lost-result" });
    await settle(host);
    expectLoggedFault("lost-result", "step.succeeded");
    expect(typesOf(await instance.history())).not.toContain("step.succeeded");
    clock.advance(FAULT_RETRY_MS);
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: 2 });
    expect(calls).toBe(2);
  });

  it("run()'s end that could not be written: the run replays from the log and completes, its step not run again", async () => {
    let calls = 0;
    const { clock, storage, host, client } = hostWith(codeFirst(async (_event, step) => step.do("a", async () => ++calls)));
    storage.failNext("instance.completed");
    const instance = await client.create({ id: "lost-end" });
    await settle(host);
    expectLoggedFault("lost-end", "instance.completed");
    expect((await instance.status()).status).not.toBe("complete");
    clock.advance(FAULT_RETRY_MS);
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: 1 });
    expect(calls).toBe(1);
  });

  it("run()'s error that could not be written: the instance still ends errored", async () => {
    const { clock, storage, host, client } = hostWith(
      codeFirst(async () => {
        throw new Error("the run failed");
      }),
    );
    storage.failNext("instance.errored");
    const instance = await client.create({ id: "lost-error" });
    await settle(host);
    expectLoggedFault("lost-error", "instance.errored");
    clock.advance(FAULT_RETRY_MS);
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { message: "the run failed" } });
  });

  it("a rollback started by run()'s error that could not be written: the saga runs after the reload", async () => {
    let undone = 0;
    const { clock, storage, host, client } = hostWith(
      codeFirst(async (_event, step) => {
        await step.do("charge", async () => "charged", { rollback: async () => void undone++ });
        throw new Error("after the charge");
      }),
    );
    storage.failNext("rollback.started");
    const instance = await client.create({ id: "lost-saga" });
    await settle(host);
    expectLoggedFault("lost-saga", "rollback.started");
    clock.advance(FAULT_RETRY_MS);
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { message: "after the charge" } });
    expect(typesOf(await instance.history())).toContain("rollback.completed");
    expect(undone).toBe(1);
  });

  it("a terminate's rollback whose handler's success could not be written: the saga goes on after the reload and the instance ends terminated", async () => {
    let undone = 0;
    const { clock, storage, host, client } = hostWith(
      codeFirst(async (_event, step) => {
        await step.do("charge", async () => "charged", { rollback: async () => void undone++ });
        await step.waitForEvent("approval", { type: "approve", timeout: "1 hour" });
      }),
    );
    const instance = await client.create({ id: "lost-undo" });
    await settle(host);
    storage.failNext("rollback.step.succeeded");
    await instance.terminate({ rollback: true });
    await settle(host);
    expectLoggedFault("lost-undo", "rollback.step.succeeded");
    clock.advance(FAULT_RETRY_MS);
    const { status } = await settleUntil(host, () => instance.status(), ({ status }) => status !== "rollingBack");
    expect(status).toBe("terminated");
    expect(typesOf(await instance.history()).slice(-2)).toEqual(["rollback.completed", "instance.terminated"]);
    // The handler ran, its success was lost with the write, and it ran again: a rollback is at least once.
    expect(undone).toBe(2);
  });

  it("a terminate whose rollback could not start: the caller is told, and the instance carries on and can be terminated again", async () => {
    let undone = 0;
    const { clock, storage, host, client } = hostWith(
      codeFirst(async (_event, step) => {
        await step.do("charge", async () => "charged", { rollback: async () => void undone++ });
        await step.waitForEvent("approval", { type: "approve", timeout: "1 hour" });
      }),
    );
    const instance = await client.create({ id: "lost-terminate" });
    await settle(host);
    storage.failNext("rollback.started");
    await expect(instance.terminate({ rollback: true })).rejects.toThrow("disk full while writing rollback.started");
    expectLoggedFault("lost-terminate", "rollback.started");
    clock.advance(FAULT_RETRY_MS);
    await settle(host);
    expect((await instance.status()).status).toBe("waiting");
    expect(undone).toBe(0);
    await instance.terminate({ rollback: true });
    await settle(host);
    expect((await instance.status()).status).toBe("terminated");
    expect(undone).toBe(1);
  });

  it("a rollback handler's retry whose start could not be written: the saga resumes after the reload", async () => {
    let undoRuns = 0;
    const { clock, storage, host, client } = hostWith(
      codeFirst(async (_event, step) => {
        await step.do("charge", async () => "charged", {
          rollback: async () => {
            if (++undoRuns === 1) throw new Error("refund service down");
          },
          rollbackConfig: { retries: { limit: 1, delay: "1 second", backoff: "constant" } },
        });
        throw new Error("after the charge");
      }),
    );
    const instance = await client.create({ id: "lost-retry" });
    await settle(host);
    expect(undoRuns).toBe(1);
    storage.failNext("rollback.step.started");
    clock.advance(1_000);
    await settle(host);
    expectLoggedFault("lost-retry", "rollback.step.started");
    clock.advance(FAULT_RETRY_MS);
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { message: "after the charge" } });
    expect(undoRuns).toBe(2);
  });

  it("a sleep's end that could not be written: advancing the clock does not throw, and the sleep ends after the reload", async () => {
    const { clock, storage, host, client } = hostWith(
      codeFirst(async (_event, step) => {
        await step.sleep("nap", "10 seconds");
        return "rested";
      }),
    );
    const instance = await client.create({ id: "lost-timer" });
    await settle(host);
    storage.failNext("timer.fired");
    clock.advance(10_000);
    await settle(host);
    expectLoggedFault("lost-timer", "timer.fired");
    clock.advance(FAULT_RETRY_MS);
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: "rested" });
  });

  it("a pause that could not be written: the caller is told, and the run is not left stopped", async () => {
    const { clock, storage, host, client } = hostWith(
      codeFirst(async (_event, step) => {
        await step.sleep("nap", "10 seconds");
        return step.do("after the nap", async () => "done");
      }),
    );
    const instance = await client.create({ id: "lost-pause" });
    await settle(host);
    storage.failNext("instance.paused");
    await expect(instance.pause()).rejects.toThrow("disk full while writing instance.paused");
    clock.advance(10_000);
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: "done" });
  });
});

describe("code-first: an entrypoint whose constructor throws", () => {
  it("ends the instance errored with the constructor's error, as run() throwing would, and the create succeeds", async () => {
    const workflow = defineWorkflow({
      name: "faulty",
      entrypoint: class extends WorkflowEntrypoint {
        constructor(ctx: never, env: never) {
          super(ctx, env);
          throw new Error("no API key in env");
        }
        async run() {
          return "never";
        }
      },
    });
    const { host, client } = hostWith(workflow);
    const instance = await client.create({ id: "bad-constructor" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { message: "no API key in env" } });
    expect(logged).not.toHaveBeenCalled();
  });
});

describe("machines: a failed write in the background is logged and retried from the log", () => {
  function machineWorkflow(calls: { n: number }) {
    const machine = setup({
      actors: { work: step(async () => ++calls.n) },
    }).createMachine({
      id: "faulty",
      initial: "working",
      states: {
        working: { invoke: { src: "work", onDone: "resting" } },
        resting: { after: { 10_000: "done" } },
        done: { type: "final" },
      },
    });
    return defineWorkflow({ name: "faulty", machine });
  }

  it("a step's result that could not be written: the step runs again once the instance reloads", async () => {
    const calls = { n: 0 };
    const { clock, storage, host, client } = hostWith(machineWorkflow(calls));
    storage.failNext("step.succeeded");
    const instance = await client.create({ id: "machine-result" });
    await settle(host);
    expectLoggedFault("machine-result", "step.succeeded");
    clock.advance(FAULT_RETRY_MS);
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "waiting", value: "resting" });
    expect(calls.n).toBe(2);
  });

  it("a timer's firing that could not be written: advancing the clock does not throw, and the timer fires after the reload", async () => {
    const { clock, storage, host, client } = hostWith(machineWorkflow({ n: 0 }));
    const instance = await client.create({ id: "machine-timer" });
    await settle(host);
    storage.failNext("timer.fired");
    clock.advance(10_000);
    await settle(host);
    expectLoggedFault("machine-timer", "timer.fired");
    clock.advance(FAULT_RETRY_MS);
    await settle(host);
    expect((await instance.status()).status).toBe("complete");
  });
});
