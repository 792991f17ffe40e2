import { describe, expect, it } from "vitest";
import { fromPromise, setup } from "xstate";
import { createManualClock, createMemoryHost, defineWorkflow, MemoryStorage, step, type LogRecord } from "../../index";

/**
 * A step body receives StepArgs, { input, env, stepId, attempt, signal },
 * and nothing else: it runs outside any actor (again after a crash, perhaps
 * in another process), so XState's `self`, `system` and `emit`, which
 * fromPromise's types offer, do not exist for it. Reading one fails the step
 * at once, saying what a body receives, rather than a TypeError retried
 * five times over an hour.
 */
function workflowOf(body: (args: Record<string, unknown>) => unknown) {
  const machine = setup({ actors: { work: fromPromise(async (args) => body(args as unknown as Record<string, unknown>)) } }).createMachine({
    id: "args",
    initial: "working",
    states: { working: { invoke: { id: "work", src: "work", input: { n: 1 }, onDone: "done", onError: "failed" } }, done: { type: "final" }, failed: { type: "final" } },
  });
  return defineWorkflow({ name: "args", machine });
}

async function run(body: (args: Record<string, unknown>) => unknown) {
  const storage = new MemoryStorage();
  const host = createMemoryHost({ workflows: [workflowOf(body)], clock: createManualClock(), storage, env: { BINDING: 1 } });
  const instance = await host.workflow("args").create({ id: "a" });
  await host.idle();
  return { status: await instance.status(), log: storage.store("args", "a").read() };
}

describe("what a step body receives", () => {
  it("exactly StepArgs: input, env, stepId, attempt and signal", async () => {
    let seen: Record<string, unknown> = {};
    const { status } = await run((args) => void (seen = args));
    expect(status.status).toBe("complete");
    expect(Object.keys(seen).sort()).toEqual(["attempt", "env", "input", "signal", "stepId"]);
    expect(seen).toMatchObject({ input: { n: 1 }, env: { BINDING: 1 }, stepId: "work#1", attempt: 1 });
    expect(seen.signal).toBeInstanceOf(AbortSignal);
  });

  it.each([
    ["emit", (args: Record<string, unknown>) => (args.emit as (event: unknown) => void)({ type: "progress" })],
    ["self", (args: Record<string, unknown>) => (args.self as { send(event: unknown): void }).send({ type: "progress" })],
    ["system", (args: Record<string, unknown>) => (args.system as { get(id: string): unknown }).get("parent")],
  ])("a body that uses XState's %s fails at once, without retries, told what a body receives", async (name, body) => {
    const { status, log } = await run(body);
    expect(status).toMatchObject({ status: "complete", value: "failed" });
    expect(log.filter((r) => r.type === "step.started")).toHaveLength(1);
    const failure = log.find((r): r is LogRecord<"step.failed"> => r.type === "step.failed")!.data.error;
    expect(failure.name).toBe("NonRetryableError");
    expect(failure.message).toContain(`XState's ${name} does not exist in a step body`);
    expect(failure.message).toContain("{ input, env, stepId, attempt, signal }");
  });
});
