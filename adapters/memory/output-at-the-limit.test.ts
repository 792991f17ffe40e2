import { describe, expect, it } from "vitest";
import { assign, setup } from "xstate";
import { createManualClock, createMemoryHost, dagTasks, defineDag, defineWorkflow, MemoryStorage, step, WorkflowEntrypoint, type LogRecord, type WorkflowEvent, type WorkflowStep } from "../../index";
import SuperJSON from "superjson";
import { MAX_PAYLOAD_BYTES, utf8Length } from "../../core/json";
import { MAX_META_BYTES } from "../../core/code/structured";

/**
 * A step's output is counted as the user's value, as params are: its JSON
 * may be exactly 1 MiB. What the engine wraps around it to store it (a
 * record, superjson's { json } for code-first steps, a DAG task's input) is
 * not the user's and does not count.
 */
const OVER = MAX_PAYLOAD_BYTES + 1;

/** A string whose JSON (quotes included) is `bytes` long, in one-byte characters. */
const text = (bytes: number) => "x".repeat(bytes - 2);

/** An object whose JSON is `bytes` long, with two-byte characters too, so bytes and characters differ. */
function object(bytes: number): { list: string[]; note: string } {
  const list = Array.from({ length: 100 }, (_, i) => `é${i}`);
  const base = utf8Length(JSON.stringify({ list, note: "" }));
  const value = { list, note: "y".repeat(bytes - base) };
  expect(utf8Length(JSON.stringify(value))).toBe(bytes);
  return value;
}

const succeeded = (log: LogRecord[]) => log.filter((r): r is LogRecord<"step.succeeded"> => r.type === "step.succeeded");
const failed = (log: LogRecord[]) => log.filter((r): r is LogRecord<"step.failed"> => r.type === "step.failed");

function machineWorkflow(value: unknown) {
  const machine = setup({
    types: { context: {} as { size: number } },
    actors: { produce: step(async () => value) },
  }).createMachine({
    id: "big",
    context: { size: 0 },
    initial: "producing",
    states: {
      producing: { invoke: { id: "produce", src: "produce", onDone: { target: "done", actions: assign({ size: ({ event }) => utf8Length(JSON.stringify(event.output)) }) }, onError: "failed" } },
      done: { type: "final" },
      failed: { type: "final" },
    },
    output: ({ context }) => context.size,
  });
  return defineWorkflow({ name: "big", machine, steps: { produce: { retries: { limit: 0, delay: 1 } } } });
}

function codeWorkflow(value: unknown) {
  class Big extends WorkflowEntrypoint {
    async run(_event: WorkflowEvent<unknown>, step: WorkflowStep) {
      const output = await step.do("produce", { retries: { limit: 0, delay: 1 } }, async () => value as never);
      return output;
    }
  }
  return defineWorkflow({ name: "big", entrypoint: Big });
}

function dagWorkflow(value: unknown) {
  return defineDag({
    name: "big",
    tasks: dagTasks()
      .task("produce", { retries: { limit: 0, delay: 1 }, run: () => value as string })
      .task("measure", { needs: ["produce"], run: ({ produce }) => utf8Length(JSON.stringify(produce)) }),
    output: ({ measure }) => measure,
  });
}

async function run(workflow: ReturnType<typeof machineWorkflow> | ReturnType<typeof codeWorkflow> | ReturnType<typeof dagWorkflow>) {
  const storage = new MemoryStorage();
  const host = createMemoryHost({ workflows: [workflow], clock: createManualClock(), storage });
  const instance = await host.workflow("big").create({ id: "b" });
  await host.idle();
  return { status: await instance.status(), log: storage.store("big", "b").read() };
}

const tooLarge = (bytes: number) => ({ name: "PayloadTooLargeError", message: `the output of step "produce" is ${bytes} bytes as JSON; the limit is ${MAX_PAYLOAD_BYTES} bytes. Store large data elsewhere and pass a reference.` });

describe("a step output of exactly 1 MiB", () => {
  it.each([
    ["a string", text],
    ["an object with two-byte characters", object],
  ])("a machine step returning %s of exactly 1 MiB succeeds; one byte more fails, told its own size", async (_, make) => {
    const { status, log } = await run(machineWorkflow(make(MAX_PAYLOAD_BYTES)));
    expect(status).toEqual({ status: "complete", value: "done", output: MAX_PAYLOAD_BYTES });
    expect(succeeded(log)[0]!.data.output).toEqual(make(MAX_PAYLOAD_BYTES));

    const over = await run(machineWorkflow(make(OVER)));
    expect(over.status).toMatchObject({ status: "complete", value: "failed" });
    expect(failed(over.log)[0]!.data.error).toEqual({ ...tooLarge(OVER), nonRetryable: true });
  });

  it.each([
    ["a string", text],
    ["an object with two-byte characters", object],
  ])("a code-first step returning %s of exactly 1 MiB succeeds, and run() may return it; one byte more ends the run, told its own size", async (_, make) => {
    const { status, log } = await run(codeWorkflow(make(MAX_PAYLOAD_BYTES)));
    expect(status).toMatchObject({ status: "complete", output: make(MAX_PAYLOAD_BYTES) });
    expect(succeeded(log)[0]!.data.output).toEqual(make(MAX_PAYLOAD_BYTES));

    const over = await run(codeWorkflow(make(OVER)));
    expect(over.status.status).toBe("errored");
    expect(failed(over.log)[0]!.data.error).toEqual({ ...tooLarge(OVER), nonRetryable: true });
  });

  it("a DAG task returning exactly 1 MiB succeeds and the task that needs it receives it; one byte more fails the task, told its own size", async () => {
    const { status, log } = await run(dagWorkflow(text(MAX_PAYLOAD_BYTES)));
    expect(status).toMatchObject({ status: "complete", output: MAX_PAYLOAD_BYTES });
    expect(succeeded(log).map((r) => r.data.key)).toEqual(["produce#1", "measure#1"]);

    const over = await run(dagWorkflow(text(OVER)));
    expect(over.status.status).toBe("errored");
    expect(failed(over.log)[0]!.data.error).toEqual({ ...tooLarge(OVER), nonRetryable: true });
  });

  /** BigInts from 0, as many as keep superjson's metadata within `metaBytes`, then text that brings the JSON to exactly 1 MiB. */
  function annotated(metaBytes: number): { numbers: bigint[]; pad: string } {
    const metaOf = (n: number) => utf8Length(JSON.stringify(SuperJSON.serialize({ numbers: Array.from({ length: n }, (_, i) => BigInt(i)), pad: "" }).meta));
    let low = 0;
    let high = 100_000;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (metaOf(mid) <= metaBytes) low = mid;
      else high = mid - 1;
    }
    const numbers = Array.from({ length: low }, (_, i) => BigInt(i));
    const json = utf8Length(JSON.stringify(SuperJSON.serialize({ numbers, pad: "" }).json));
    return { numbers, pad: "z".repeat(MAX_PAYLOAD_BYTES - json) };
  }

  it("a code-first output of 1 MiB with the most type annotations allowed is kept, in a record that fits a 2 MB row; more annotations are refused, named", async () => {
    const value = annotated(MAX_META_BYTES);
    const { json, meta } = SuperJSON.serialize(value);
    expect(utf8Length(JSON.stringify(json))).toBe(MAX_PAYLOAD_BYTES);
    expect(utf8Length(JSON.stringify(meta))).toBeGreaterThan(MAX_META_BYTES - 100);
    const { status, log } = await run(codeWorkflow(value));
    expect(status.status).toBe("complete");
    const record = succeeded(log)[0]!;
    expect(SuperJSON.deserialize({ json: record.data.output!, meta: record.data.meta as never })).toEqual(value);
    // A Durable Object's SQLite row holds at most 2 MB (https://developers.cloudflare.com/durable-objects/platform/limits/); the record's data is one column of it.
    expect(utf8Length(JSON.stringify(record.data))).toBeLessThan(2_000_000);
    expect(utf8Length(JSON.stringify(log.find((r) => r.type === "instance.completed")!.data))).toBeLessThan(2_000_000);

    const over = await run(codeWorkflow(annotated(MAX_META_BYTES + 100)));
    expect(over.status.status).toBe("errored");
    expect(failed(over.log)[0]!.data.error.message).toMatch(/^the type annotations of the output of step "produce" \(where its Dates, Maps, Sets, BigInts… are\) is \d+ bytes as JSON; the limit is 786432 bytes/);
  });
});
