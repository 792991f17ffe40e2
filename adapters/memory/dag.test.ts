import { describe, expect, it } from "vitest";
import {
  createManualClock,
  createMemoryHost,
  dagTasks,
  defineDag,
  definitionOf,
  NonRetryableError,
  type InstanceHandle,
  type LogRecord,
  type TaskStepConfig,
  type WorkflowDefinition,
} from "../../index";

/** Lets pending promise callbacks run, without waiting on any step (for steps the test holds open). */
const flush = async (times = 3) => {
  for (let i = 0; i < times; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

function hostFor(def: WorkflowDefinition) {
  const clock = createManualClock();
  return { clock, host: createMemoryHost({ workflows: [def], clock }) };
}

const starts = (log: readonly LogRecord[]) => log.flatMap((r) => (r.type === "step.started" && r.data.attempt === 1 ? [r.data.key] : []));

/** A step body the test settles by hand, remembering which ones run now. */
function held<T>() {
  const running = new Map<string, (value: T) => void>();
  let most = 0;
  return {
    running,
    get most() {
      return most;
    },
    run(name: string): Promise<T> {
      const result = new Promise<T>((resolve) => running.set(name, resolve));
      most = Math.max(most, running.size);
      return result.finally(() => running.delete(name));
    },
    settle(name: string, value: T) {
      running.get(name)!(value);
    },
  };
}

async function settleAll(host: { idle(): Promise<void> }, clock: { advance(ms: number): void }, rounds = 10) {
  for (let i = 0; i < rounds; i++) {
    await host.idle();
    clock.advance(60_000);
  }
  await host.idle();
}

describe("DAG workflows on the memory host", () => {
  it("a diamond: b and c run together once a has succeeded, d only once both have, with their outputs typed by name", async () => {
    const steps = held<number>();
    const seen: unknown[] = [];
    const def = defineDag({
      name: "diamond",
      tasks: dagTasks<{ n: number }>()
        .task("a", { run: (_, { params }) => params.n })
        .task("b", { needs: ["a"], run: ({ a }) => steps.run(`b${a}`) })
        .task("c", { needs: ["a"], run: ({ a }) => steps.run(`c${a}`) })
        .task("d", {
          needs: ["b", "c"],
          run: ({ b, c }, ctx) => {
            seen.push({ b, c, step: ctx.step, attempt: ctx.attempt, stepId: ctx.stepId, params: ctx.params });
            return b * c;
          },
        }),
      output: ({ d }, params) => ({ product: d, n: params.n }),
    });
    const { host } = hostFor(def);
    const instance = await host.workflow("diamond").create({ id: "d1", params: { n: 3 } });
    await flush();
    expect([...steps.running.keys()]).toEqual(["b3", "c3"]);
    steps.settle("c3", 5);
    await flush();
    expect(starts(await instance.history())).toEqual(["a#1", "b#1", "c#1"]);
    steps.settle("b3", 4);
    await host.idle();
    expect(seen).toEqual([{ b: 4, c: 5, step: { name: "d", count: 1 }, attempt: 1, stepId: "d#1", params: { n: 3 } }]);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { product: 20, n: 3 }, value: { a: "done", b: "done", c: "done", d: "done" } });
  });

  it("fans out one step per item, never more than `concurrency` at once, each item retried on its own, results in input order", async () => {
    const items = held<string>();
    const attempts: Record<number, number[]> = {};
    const counts: number[] = [];
    const def = defineDag({
      name: "fanout",
      tasks: dagTasks()
        .task("list", { run: () => ["a", "b", "c", "d", "e"] })
        .map("upper", {
          over: "list",
          concurrency: 2,
          retries: { limit: 2, delay: "1 second", backoff: "constant" },
          run: async (item, { index, attempt, step }) => {
            (attempts[index] ??= []).push(attempt);
            counts.push(step.count);
            if (item === "b" && attempt === 1) throw new Error("flaky");
            return items.run(item);
          },
        }),
    });
    const { host, clock } = hostFor(def);
    const instance = await host.workflow("fanout").create({ id: "f1" });
    await flush();
    expect([...items.running.keys()]).toEqual(["a"]);
    clock.advance(1000);
    await flush();
    expect([...items.running.keys()].sort()).toEqual(["a", "b"]);
    items.settle("b", "B");
    await flush();
    items.settle("c", "C");
    await flush();
    items.settle("a", "A");
    await flush();
    expect(items.running.size).toBe(2);
    items.settle("e", "E");
    await flush();
    items.settle("d", "D");
    await host.idle();
    expect(items.most).toBe(2);
    expect(attempts).toEqual({ 0: [1], 1: [1, 2], 2: [1], 3: [1], 4: [1] });
    expect([...counts].sort()).toEqual([1, 2, 2, 3, 4, 5]);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { list: ["a", "b", "c", "d", "e"], upper: ["A", "B", "C", "D", "E"] } });
  });

  it("a map over an empty list succeeds at once with an empty list", async () => {
    const def = defineDag({
      name: "empty-map",
      tasks: dagTasks()
        .task("none", { run: (): number[] => [] })
        .map("each", { over: "none", run: (n) => n * 2 })
        .task("after", { needs: ["each"], run: ({ each }) => each.length }),
    });
    const { host } = hostFor(def);
    const instance = await host.workflow("empty-map").create({ id: "e1" });
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: { none: [], each: [], after: 0 } });
  });

  it("maxConcurrency bounds the steps running at once; a sleep does not take a place; tasks declared first start first", async () => {
    const steps = held<number>();
    let tasks = dagTasks().sleep("rest", { duration: "1 hour" });
    for (const name of ["t1", "t2", "t3", "t4", "t5"]) tasks = tasks.task(name, { run: () => steps.run(name) }) as unknown as typeof tasks;
    const def = defineDag({ name: "bounded", maxConcurrency: 2, tasks });
    const { host, clock } = hostFor(def);
    const instance = await host.workflow("bounded").create({ id: "b1" });
    await flush();
    expect([...steps.running.keys()]).toEqual(["t1", "t2"]);
    steps.settle("t2", 2);
    await flush();
    expect([...steps.running.keys()]).toEqual(["t1", "t3"]);
    steps.settle("t1", 1);
    steps.settle("t3", 3);
    await flush();
    expect([...steps.running.keys()]).toEqual(["t4", "t5"]);
    steps.settle("t4", 4);
    steps.settle("t5", 5);
    await flush();
    expect(steps.most).toBe(2);
    expect((await instance.status()).status).toBe("waiting");
    clock.advance(3_600_000);
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: { t1: 1, t2: 2, t3: 3, t4: 4, t5: 5 } });
  });

  it("a sleep task is a durable cool-down: what needs it starts only once its time has passed, even across a crash", async () => {
    const ran: string[] = [];
    const def = defineDag({
      name: "cooldown",
      tasks: dagTasks()
        .task("first", { run: () => void ran.push("first") })
        .sleep("coolDown", { needs: ["first"], duration: "10 minutes" })
        .task("second", { needs: ["coolDown"], run: ({ coolDown }) => ran.push(`second ${String(coolDown)}`) }),
    });
    const { host, clock } = hostFor(def);
    const instance = await host.workflow("cooldown").create({ id: "c1" });
    await host.idle();
    clock.advance(9 * 60_000);
    host.crash();
    await host.idle();
    expect(ran).toEqual(["first"]);
    expect((await instance.status()).status).toBe("waiting");
    clock.advance(60_000);
    await host.idle();
    expect(ran).toEqual(["first", "second undefined"]);
    expect((await instance.status()).status).toBe("complete");
  });

  it("an event gate passes the event's payload on as its output; an event sent before the gate opens waits for it", async () => {
    const steps = held<string>();
    const def = defineDag({
      name: "review",
      tasks: dagTasks()
        .task("draft", { run: () => steps.run("draft") })
        .waitForEvent("approval", { needs: ["draft"], type: "approve", timeout: "1 day", payload: {} as { by: string } })
        .task("publish", { needs: ["draft", "approval"], run: ({ draft, approval }) => `${draft} approved by ${approval.by}` }),
      output: ({ publish }) => publish,
    });
    const { host } = hostFor(def);
    const instance = await host.workflow("review").create({ id: "r1" });
    await flush();
    await instance.sendEvent({ type: "approve", payload: { by: "ada" } });
    expect((await instance.status()).value).toMatchObject({ approval: "pending" });
    steps.settle("draft", "v1");
    await host.idle();
    expect(await instance.status()).toMatchObject({ status: "complete", output: "v1 approved by ada" });
  });

  it("an event gate that times out fails the instance with a WorkflowTimeoutError and runs the rollbacks", async () => {
    const undone: string[] = [];
    const def = defineDag({
      name: "gate-timeout",
      tasks: dagTasks()
        .task("reserve", { run: () => "room", rollback: ({ output }) => void undone.push(`release ${output}`) })
        .waitForEvent("approval", { needs: ["reserve"], type: "approve", timeout: "1 hour" })
        .task("confirm", { needs: ["approval"], run: () => "confirmed" }),
    });
    const { host, clock } = hostFor(def);
    const instance = await host.workflow("gate-timeout").create({ id: "g1" });
    await host.idle();
    clock.advance(3_600_000);
    await settleAll(host, clock);
    expect(await instance.status()).toMatchObject({
      status: "errored",
      error: { name: "WorkflowTimeoutError", message: 'Task "approval" timed out after 3600000ms waiting for a "approve" event' },
    });
    expect(undone).toEqual(["release room"]);
    expect(starts(await instance.history())).not.toContain("confirm#1");
  });

  it("a task that fails after its retries fails the instance: running tasks are aborted, pending ones never start, started ones are rolled back newest first", async () => {
    const steps = held<string>();
    const undone: { task: string; output: unknown; error: string; needs?: unknown; config?: TaskStepConfig }[] = [];
    const aborted: string[] = [];
    const attempts: number[] = [];
    const def = defineDag({
      name: "saga",
      tasks: dagTasks()
        .task("book", {
          run: () => "flight",
          rollback: ({ output, error }) => void undone.push({ task: "book", output, error: `${error.name}: ${error.message}` }),
        })
        .task("slow", {
          needs: ["book"],
          run: (_, { signal }) => {
            signal.addEventListener("abort", () => aborted.push("slow"));
            return steps.run("slow");
          },
          rollback: ({ output, needs }) => void undone.push({ task: "slow", output, error: "", needs }),
        })
        .task("charge", {
          needs: ["book"],
          retries: { limit: 2, delay: "1 second", backoff: "constant" },
          run: (_, { attempt }) => {
            attempts.push(attempt);
            throw new Error("card declined");
          },
          rollback: ({ output }, { config }) => void undone.push({ task: "charge", output, error: "", config }),
          rollbackConfig: { retries: { limit: 1, delay: 5 } },
        })
        .task("ship", { needs: ["slow", "charge"], run: () => "shipped", rollback: () => void undone.push({ task: "ship", output: null, error: "" }) }),
    });
    const { host, clock } = hostFor(def);
    const instance = await host.workflow("saga").create({ id: "s1" });
    for (let i = 0; i < 3; i++) {
      await flush();
      clock.advance(1000);
    }
    await flush();
    steps.settle("slow", "late");
    await settleAll(host, clock, 3);
    expect(attempts).toEqual([1, 2, 3]);
    expect(aborted).toEqual(["slow"]);
    expect(undone).toEqual([
      { task: "charge", output: undefined, error: "", config: { retries: { limit: 1, delay: 5, backoff: "exponential" }, timeout: "10 minutes" } },
      { task: "slow", output: undefined, error: "", needs: { book: "flight" } },
      { task: "book", output: "flight", error: "Error: card declined" },
    ]);
    const log = await instance.history();
    expect(starts(log).filter((key) => !key.endsWith("~undo"))).toEqual(["book#1", "slow#1", "charge#1"]);
    expect(log.some((r) => r.type === "step.succeeded" && r.data.key === "slow#1")).toBe(false);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { message: "card declined" } });
  });

  it("per task: Cloudflare's defaults in ctx.config, NonRetryableError fails at once, a timeout fails the attempt", async () => {
    const configs: TaskStepConfig[] = [];
    let tries = 0;
    const refuse = defineDag({
      name: "refuse",
      tasks: dagTasks().task("once", {
        run: (_, { config }) => {
          configs.push(config);
          tries++;
          throw new NonRetryableError("no");
        },
      }),
    });
    const first = hostFor(refuse);
    const refused = await first.host.workflow("refuse").create({ id: "n1" });
    await first.host.idle();
    expect(tries).toBe(1);
    expect(configs).toEqual([{ retries: { limit: 5, delay: 10_000, backoff: "exponential" }, timeout: "10 minutes" }]);
    expect(await refused.status()).toMatchObject({ status: "errored", error: { name: "NonRetryableError", message: "no" } });

    const hang = defineDag({
      name: "hang",
      tasks: dagTasks().task("stuck", { timeout: "2 seconds", retries: { limit: 0, delay: 0 }, run: (_, { signal }) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))) }),
    });
    const second = hostFor(hang);
    const hung = await second.host.workflow("hang").create({ id: "h1" });
    await flush();
    second.clock.advance(2000);
    await second.host.idle();
    expect(await hung.status()).toMatchObject({ status: "errored", error: { name: "WorkflowTimeoutError", message: "Execution timed out after 2000ms" } });
  });

  it("after a crash, tasks whose results are recorded do not run again; the ones cut off run again with a new attempt", async () => {
    const runs: string[] = [];
    const steps = held<number>();
    const def = defineDag({
      name: "recover",
      tasks: dagTasks()
        .task("a", { run: () => (runs.push("a"), 1) })
        .task("b", { needs: ["a"], run: (_, { attempt }) => (runs.push(`b@${attempt}`), steps.run(`b@${attempt}`)) })
        .task("c", { needs: ["a", "b"], run: ({ a, b }) => (runs.push("c"), a + b) }),
    });
    const { host } = hostFor(def);
    const instance = await host.workflow("recover").create({ id: "r1" });
    await flush();
    host.crash();
    await flush();
    steps.settle("b@2", 41);
    await host.idle();
    expect(runs).toEqual(["a", "b@1", "b@2", "c"]);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { a: 1, b: 41, c: 42 } });
  });

  it("a map task's rollback undoes each started item, newest first", async () => {
    const undone: string[] = [];
    const def = defineDag({
      name: "map-saga",
      tasks: dagTasks()
        .task("ids", { run: () => [1, 2, 3] })
        .map("reserve", { over: "ids", concurrency: 1, run: (id) => `seat ${id}`, rollback: ({ item, index, output }) => void undone.push(`${index}:${item}:${output}`) })
        .task("pay", { needs: ["reserve"], retries: { limit: 0, delay: 0 }, run: () => Promise.reject(new Error("no funds")) }),
    });
    const { host } = hostFor(def);
    const instance = await host.workflow("map-saga").create({ id: "m1" });
    await host.idle();
    expect(undone).toEqual(["2:3:seat 3", "1:2:seat 2", "0:1:seat 1"]);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { message: "no funds" } });
  });

  it("terminate({ rollback: true }) and restart({ from }) work on a DAG as on any machine", async () => {
    const steps = held<string>();
    const undone: string[] = [];
    const runs: string[] = [];
    const def = defineDag({
      name: "lifecycle",
      tasks: dagTasks()
        .task("a", { run: () => (runs.push("a"), "A"), rollback: () => void undone.push("a") })
        .task("b", { needs: ["a"], run: (_, { stepId }) => (runs.push(stepId), steps.run(stepId)), rollback: () => void undone.push("b") }),
    });
    const { host } = hostFor(def);
    const first = await host.workflow("lifecycle").create({ id: "l1" });
    await flush();
    await first.terminate({ rollback: true });
    await host.idle();
    expect(undone).toEqual(["b", "a"]);
    expect((await first.status()).status).toBe("terminated");

    const second = await host.workflow("lifecycle").create({ id: "l2" });
    await flush();
    steps.settle("b#1", "B1");
    await host.idle();
    await second.restart({ from: "b#1" });
    await flush();
    steps.settle("b#2", "B2");
    await host.idle();
    expect(runs).toEqual(["a", "b#1", "a", "b#1", "b#2"]);
    expect(await second.status()).toMatchObject({ status: "complete", output: { a: "A", b: "B2" } });
  });

  it("a map over an output that is not a list fails the instance, naming both tasks", async () => {
    const def = defineDag({
      name: "not-a-list",
      tasks: dagTasks()
        .task("list", { run: () => ({ oops: true }) as unknown as number[] })
        .map("each", { over: "list", run: (n) => n }),
    });
    const { host } = hostFor(def);
    const instance = await host.workflow("not-a-list").create({ id: "x1" });
    await host.idle();
    expect(await instance.status()).toMatchObject({
      status: "errored",
      error: { name: "MapInputError", message: 'Task "each" maps over the output of "list", which is not a list (got {"oops":true}).' },
    });
  });

  it("compiles to a machine the inspector can read: one region per task, named after it", async () => {
    const def = defineDag({
      name: "shape",
      tasks: dagTasks()
        .task("fetch", { run: () => [1] })
        .map("each", { over: "fetch", concurrency: 2, run: (n) => n })
        .sleep("rest", { needs: ["each"], duration: 1000 })
        .waitForEvent("ok", { needs: ["rest"], type: "ok" }),
    });
    expect(def.kind).toBe("machine");
    const config = JSON.parse(definitionOf(def)) as { type: string; states: Record<string, { states: Record<string, { states?: object }> }> };
    expect(config.type).toBe("parallel");
    expect(Object.keys(config.states)).toEqual(["fetch", "each", "rest", "ok"]);
    expect(Object.keys(config.states.fetch!.states)).toEqual(["pending", "running", "done"]);
    expect(Object.keys(config.states.each!.states.running!.states!)).toEqual(["slot0", "slot1"]);
    const { host } = hostFor(def);
    const instance: InstanceHandle = await host.workflow("shape").create({ id: "i1" });
    await host.idle();
    expect((await instance.status()).value).toEqual({ fetch: "done", each: "done", rest: "running", ok: "pending" });
  });
});
