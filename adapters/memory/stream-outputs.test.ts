import { describe, expect, it } from "vitest";
import {
  createManualClock,
  createMemoryHost,
  defineWorkflow,
  inspectionEvents,
  STREAM_LIMITS,
  StreamOutputStorageLimitError,
  WorkflowEntrypoint,
  type LogRecord,
  type StreamLimits,
  type WorkflowEvent,
  type WorkflowStep,
} from "../../index";

/**
 * Steps that return a ReadableStream (Cloudflare's "ReadableStream outputs",
 * https://developers.cloudflare.com/workflows/build/workers-api/): the bytes are stored in rows beside the log, the log
 * records where they are, and run() gets a fresh stream of them on every
 * replay. Small injected limits stand in for Cloudflare's 256 KiB rows,
 * 16 MiB chunks and 1 GiB an instance.
 */

type Body = (event: WorkflowEvent<unknown>, step: WorkflowStep) => Promise<unknown>;

const LIMITS: StreamLimits = { rowBytes: 16, chunkBytes: 64, instanceBytes: 1024 };

function hostFor(body: Body, streamLimits: StreamLimits = LIMITS) {
  const clock = createManualClock(1_000_000);
  const def = defineWorkflow({
    name: "streams",
    entrypoint: class extends WorkflowEntrypoint {
      async run(event: WorkflowEvent<unknown>, step: WorkflowStep) {
        return body(event, step);
      }
    },
  });
  const host = createMemoryHost({ workflows: [def], clock, streamLimits });
  const rows = (id: string) => host.storage.store("streams", id).chunks;
  /** Another process on the same storage, as after a crash that left the first one's work where it stood. */
  const restarted = () => createMemoryHost({ workflows: [def], clock, streamLimits, storage: host.storage });
  return { host, clock, def, client: host.workflow("streams"), rows, restarted };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function settle(host: { idle(): Promise<void> }) {
  for (let i = 0; i < 5; i++) {
    await flush();
    await host.idle();
  }
}

/** Bytes 128, 129… 255, 128…: a row out of place changes the content, and no run of them is UTF-8, so previews show them as binary. */
const pattern = (length: number, from = 0) => Uint8Array.from({ length }, (_, i) => 128 + ((from + i) % 128));

/** A stream that yields these chunks, then closes. */
function streamOf(...chunks: unknown[]): ReadableStream<unknown> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

async function bytesOf(stream: unknown): Promise<number[]> {
  expect(stream).toBeInstanceOf(ReadableStream);
  return [...new Uint8Array(await new Response(stream as ReadableStream<Uint8Array>).arrayBuffer())];
}

const ofType = <T extends LogRecord["type"]>(log: LogRecord[], type: T) => log.filter((r) => r.type === type) as LogRecord<T>[];

/** A promise the test settles. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe("a step that returns a ReadableStream", () => {
  it("is stored in fixed-size rows, recorded by length and row count, and read by run() as the same bytes", async () => {
    let calls = 0;
    const chunks = [pattern(10), pattern(30, 10).buffer, new Uint16Array([0x0201, 0x0403]), new Uint8Array(0)];
    const { host, client, rows } = hostFor(async (_event, step) => {
      const stream = await step.do("download", async () => (calls++, streamOf(...chunks)));
      return bytesOf(stream);
    });
    const instance = await client.create({ id: "happy" });
    await settle(host);
    const expected = [...pattern(40), 1, 2, 3, 4];
    expect(expected.slice(0, 4)).toEqual([128, 129, 130, 131]);
    expect(await instance.status()).toMatchObject({ status: "complete", output: expected });
    expect(calls).toBe(1);
    const [succeeded] = ofType(await instance.history(), "step.succeeded");
    expect(succeeded!.data).toEqual({ key: "do:download-1", attempt: 1, stream: { bytes: 44, chunks: 3 }, output: "[ReadableStream (binary): 44 bytes]" });
    expect([0, 1, 2, 3].map((i) => rows("happy").read("do:download-1", 1, i)?.byteLength)).toEqual([16, 16, 12, undefined]);
    expect(rows("happy").bytes()).toBe(44);
  });

  it("hands run() a fresh stream on every replay, from the rows, without calling the step again", async () => {
    let calls = 0;
    const reads: number[][] = [];
    const { host, client } = hostFor(async (_event, step) => {
      const stream = await step.do("download", async () => (calls++, streamOf(pattern(50))));
      reads.push(await bytesOf(stream));
      await step.waitForEvent("go", { type: "go" });
      return reads.length;
    });
    const instance = await client.create({ id: "replay" });
    await settle(host);
    host.crash();
    await settle(host);
    host.crash();
    await settle(host);
    await instance.sendEvent({ type: "go" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: 3 });
    expect(calls).toBe(1);
    expect(reads).toEqual([[...pattern(50)], [...pattern(50)], [...pattern(50)]]);
  });

  it("after a crash between its row writes and its result, the torn rows are dropped on recovery and the step runs again", async () => {
    let calls = 0;
    // The first process never gets further than its first row.
    const { client, rows, restarted } = hostFor(async (_event, step) => {
      const stream = await step.do("download", async () => {
        const run = ++calls;
        return new ReadableStream({
          async pull(controller) {
            controller.enqueue(pattern(20, run));
            if (run === 1) await new Promise(() => undefined);
            controller.close();
          },
        });
      });
      return bytesOf(stream);
    });
    await client.create({ id: "torn" });
    for (let i = 0; i < 5; i++) await flush();
    expect(rows("torn").bytes()).toBe(16);
    expect(rows("torn").read("do:download-1", 1, 0)).toEqual(pattern(16, 1));
    // Paused, so that recovery does not run the step again at once: the rows must go all the same.
    await (await client.get("torn")).pause();
    const host = restarted();
    const instance = await host.workflow("streams").get("torn");
    await settle(host);
    expect(rows("torn").bytes()).toBe(0);
    expect(calls).toBe(1);
    await instance.resume();
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: [...pattern(20, 2)] });
    expect(calls).toBe(2);
    expect(rows("torn").read("do:download-1", 1, 0)).toBeUndefined();
    expect(rows("torn").bytes()).toBe(20);
    expect(ofType(await instance.history(), "step.succeeded").map((r) => r.data.attempt)).toEqual([2]);
  });

  it("a timeout while the stream is read fails the attempt like any timeout; the retry's rows are the ones kept", async () => {
    let calls = 0;
    const { host, clock, client, rows } = hostFor(async (_event, step) => {
      const stream = await step.do("slow", { retries: { limit: 1, delay: 10 }, timeout: 100 }, async () => {
        const run = ++calls;
        return new ReadableStream({
          start(controller) {
            controller.enqueue(pattern(24, run));
            if (run > 1) controller.close();
          },
        });
      });
      return bytesOf(stream);
    });
    const instance = await client.create({ id: "slow" });
    for (let i = 0; i < 5; i++) await flush();
    expect(rows("slow").bytes()).toBe(16);
    clock.advance(100);
    await settle(host);
    clock.advance(10);
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: [...pattern(24, 2)] });
    const log = await instance.history();
    expect(ofType(log, "step.attempt_failed").map((r) => r.data.error.message)).toEqual(["Execution timed out after 100ms"]);
    expect(rows("slow").bytes()).toBe(24);
    expect(rows("slow").read("do:slow-1", 1, 0)).toBeUndefined();
  });

  it("a stream that a timed-out attempt returns late leaves the retry's recorded rows alone", async () => {
    let calls = 0;
    const late = gate();
    const { host, clock, client, rows } = hostFor(async (_event, step) => {
      const stream = await step.do("slow", { retries: { limit: 1, delay: 10 }, timeout: 100 }, async () => {
        const run = ++calls;
        if (run === 1) await late.promise;
        return streamOf(pattern(24, run));
      });
      const bytes = await bytesOf(stream);
      await step.waitForEvent("go", { type: "go" });
      return bytes;
    });
    const instance = await client.create({ id: "late" });
    for (let i = 0; i < 5; i++) await flush();
    clock.advance(100);
    await settle(host);
    clock.advance(10);
    await settle(host);
    expect(ofType(await instance.history(), "step.succeeded").map((r) => r.data.attempt)).toEqual([2]);
    late.open();
    await settle(host);
    expect(rows("late").bytes()).toBe(24);
    host.crash();
    await settle(host);
    await instance.sendEvent({ type: "go" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: [...pattern(24, 2)] });
  });

  it("an empty stream is stored as no rows and replays as an empty stream", async () => {
    const { host, client } = hostFor(async (_event, step) => bytesOf(await step.do("nothing", async () => streamOf())));
    const instance = await client.create({ id: "empty" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: [] });
    expect(ofType(await instance.history(), "step.succeeded")[0]!.data).toMatchObject({ stream: { bytes: 0, chunks: 0 }, output: "" });
  });

  it("shows readers a preview, as Cloudflare does: UTF-8 text as text, 1024 characters at most, other bytes by their length", async () => {
    const text = "héllo ✓ ".repeat(200);
    const { host, client } = hostFor(
      async (_event, step) => {
        await step.do("short", async () => streamOf(new TextEncoder().encode("plain text")));
        await step.do("long", async () => streamOf(new TextEncoder().encode(text)));
        await step.do("binary", async () => streamOf(new Uint8Array([0xff, 0xfe, 0x00])));
        return "done";
      },
      { ...LIMITS, rowBytes: 256, chunkBytes: 4096, instanceBytes: 8192 },
    );
    const instance = await client.create({ id: "previews" });
    await settle(host);
    const shown = ofType(await instance.history(), "step.succeeded").map((r) => r.data.output);
    expect(shown).toEqual(["plain text", `${text.slice(0, 1024)}[truncated output]`, "[ReadableStream (binary): 3 bytes]"]);
  });

  it("hands each rollback handler a fresh stream of the output", async () => {
    const undone: number[][] = [];
    const { host, client } = hostFor(async (_event, step) => {
      await step.do("download", async () => streamOf(pattern(20)), { rollback: async ({ output }) => void undone.push(await bytesOf(output)) });
      await step.do("fails", { retries: { limit: 0, delay: 0 } }, async () => {
        throw new Error("no");
      });
    });
    const instance = await client.create({ id: "undo" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "errored" });
    expect(undone).toEqual([[...pattern(20)]]);
  });
});

describe("subscribe() and the other readers of a streamed output", () => {
  it("step_completed carries a fresh stream for each subscriber; history, inspection and status() show no bytes", async () => {
    const { host, client, def } = hostFor(async (_event, step) => {
      await step.do("download", async () => streamOf(pattern(40)));
      return "done";
    });
    const instance = await client.create({ id: "subscribed" });
    await settle(host);
    for (let i = 0; i < 2; i++) {
      const subscription = await instance.subscribe({ filter: ["step_completed"] });
      const completed = await subscription.next();
      expect(completed.value).toMatchObject({ type: "step_completed", stepName: "download-1" });
      expect(await bytesOf((completed.value as { output: unknown }).output)).toEqual([...pattern(40)]);
    }
    const history = await instance.history();
    const shown = JSON.stringify([history, inspectionEvents(def, history), await instance.status()]);
    expect(shown).toContain("[ReadableStream (binary): 40 bytes]");
    expect(shown).not.toMatch(/"0":128|128,129,130/);
  });

  it("a sensitive streamed output reaches run() but subscribers and inspection get [REDACTED]", async () => {
    const secret = new TextEncoder().encode("s3cr3t token");
    const { host, client, def } = hostFor(async (_event, step) => {
      const stream = await step.do("mint", { sensitive: "output" }, async () => streamOf(secret));
      return (await bytesOf(stream)).length;
    });
    const instance = await client.create({ id: "secret" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: secret.length });
    const completed = await (await instance.subscribe({ filter: ["step_completed"] })).next();
    expect(completed.value).toMatchObject({ type: "step_completed", output: "[REDACTED]" });
    const shown = JSON.stringify(inspectionEvents(def, await instance.history()));
    expect(shown).toContain("[REDACTED]");
    expect(shown).not.toContain("s3cr3t");
  });
});

describe("invalid streams end the instance as Cloudflare's engine does", () => {
  const invalid = "The execution of the Workflow instance was terminated, as the step \"bad\" returned an invalid ReadableStream output. ";
  const cases: [string, () => unknown, string][] = [
    [
      "a locked stream",
      () => {
        const stream = streamOf(pattern(4));
        stream.getReader();
        return stream;
      },
      "Step returned a ReadableStream that is already locked or otherwise unreadable. Return a fresh, unlocked ReadableStream from step.do().",
    ],
    [
      "a stream that fails while it is read",
      () =>
        new ReadableStream({
          pull(controller) {
            controller.enqueue(pattern(20));
            controller.error(new Error("connection reset"));
          },
        }),
      "Failed to read from step ReadableStream output. connection reset",
    ],
    ["a string chunk", () => streamOf(pattern(20), "text"), "Step returned a ReadableStream with unsupported chunk type. Only ArrayBuffer and TypedArray chunks are supported."],
    ["a DataView chunk", () => streamOf(new DataView(new ArrayBuffer(4))), "Step returned a ReadableStream with unsupported chunk type. Only ArrayBuffer and TypedArray chunks are supported."],
    ["a chunk over the chunk limit", () => streamOf(pattern(20), pattern(65)), "Step returned a ReadableStream chunk larger than the maximum allowed size of 64 bytes. Return smaller chunks from step.do()."],
  ];

  it.each(cases)("%s: no retry, the attempt fails with WorkflowFatalError, nothing is kept", async (_label, make, message) => {
    let calls = 0;
    const { host, clock, client, rows } = hostFor(async (_event, step) => {
      try {
        await step.do("bad", { retries: { limit: 3, delay: 10 } }, async () => (calls++, make() as never));
      } catch {
        return "run() caught it";
      }
      return "unreachable";
    });
    const instance = await client.create({ id: "bad" });
    await settle(host);
    clock.advance(1000);
    await settle(host);
    expect(calls).toBe(1);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { name: "WorkflowFatalError", message: invalid + message } });
    const log = await instance.history();
    expect(ofType(log, "step.attempt_failed").map((r) => r.data.error)).toEqual([{ name: "WorkflowFatalError", message, nonRetryable: true }]);
    expect(ofType(log, "step.failed")).toHaveLength(1);
    expect(ofType(log, "step.succeeded")).toEqual([]);
    expect(rows("bad").bytes()).toBe(0);
  });

  it("run() cannot return the stream a step gave it: the workflow's output is not serialisable", async () => {
    const { host, client } = hostFor(async (_event, step) => step.do("download", async () => streamOf(pattern(4))));
    const instance = await client.create({ id: "returned" });
    await settle(host);
    const { status, error } = await instance.status();
    expect(status).toBe("errored");
    expect(error?.message).toContain("the workflow's output is a ReadableStream");
  });

  it("a stream inside another value is not serialisable", async () => {
    const { host, client } = hostFor(async (_event, step) => step.do("nested", async () => ({ body: streamOf(pattern(4)) }) as never));
    const instance = await client.create({ id: "nested" });
    await settle(host);
    expect(await instance.status()).toMatchObject({
      status: "errored",
      error: { name: "WorkflowFatalError", message: 'The execution of the Workflow instance was terminated, as the step "nested" returned a value which is not serialisable' },
    });
    expect(ofType(await instance.history(), "step.failed")[0]!.data.error.message).toContain("a ReadableStream");
  });

  it("over the instance's storage limit: the instance ends with Cloudflare's message; earlier outputs stay readable", async () => {
    const { host, client, rows } = hostFor(async (_event, step) => {
      await step.do("first", async () => streamOf(pattern(60), pattern(60), pattern(60), pattern(60), pattern(60), pattern(60), pattern(60), pattern(60), pattern(60), pattern(60)));
      await step.do("second", async () => streamOf(pattern(60), pattern(60), pattern(60), pattern(60), pattern(60), pattern(60), pattern(60), pattern(60)));
      return "unreachable";
    });
    const instance = await client.create({ id: "full" });
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "errored", error: { name: "WorkflowFatalError", message: "The instance has exceeded the 1KiB storage limit" } });
    expect(rows("full").bytes()).toBe(600);
    const log = await instance.history();
    expect(ofType(log, "step.attempt_failed").map((r) => [r.data.key, r.data.error.message])).toEqual([["do:second-1", "The instance has exceeded the 1KiB storage limit"]]);
    expect(new StreamOutputStorageLimitError(STREAM_LIMITS.instanceBytes).message).toBe("The instance has exceeded the 1GiB storage limit");
    expect(STREAM_LIMITS).toEqual({ rowBytes: 256 * 1024, chunkBytes: 16 * 1024 * 1024, instanceBytes: 1024 ** 3 });
  });
});

describe("restart and delete", () => {
  it("a restart from a step drops the rows of the steps after the cut at once, and serves their new outputs", async () => {
    let runs = 0;
    const held = gate();
    const { host, client, rows } = hostFor(async (_event, step) => {
      const a = await bytesOf(await step.do("a", async () => streamOf(pattern(8))));
      const b = await bytesOf(
        await step.do("b", async () => {
          const run = ++runs;
          if (run === 2) await held.promise;
          return streamOf(pattern(8, 100 * run));
        }),
      );
      return { a, b };
    });
    const instance = await client.create({ id: "restarted" });
    await settle(host);
    expect(rows("restarted").bytes()).toBe(16);
    await instance.restart({ from: { name: "b" } });
    expect(rows("restarted").bytes()).toBe(8);
    expect(rows("restarted").read("do:a-1", 1, 0)).toEqual(pattern(8));
    held.open();
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { a: [...pattern(8)], b: [...pattern(8, 200)] } });
    await instance.restart();
    expect(rows("restarted").bytes()).toBe(0);
    await settle(host);
    expect(await instance.status()).toMatchObject({ status: "complete", output: { a: [...pattern(8)], b: [...pattern(8, 300)] } });
  });

  it("delete removes the stored rows with the instance", async () => {
    const { host, client, rows } = hostFor(async (_event, step) => bytesOf(await step.do("a", async () => streamOf(pattern(40)))));
    const instance = await client.create({ id: "deleted" });
    await settle(host);
    expect(rows("deleted").bytes()).toBe(40);
    await instance.delete();
    expect(rows("deleted").bytes()).toBe(0);
    expect(rows("deleted").read("do:a-1", 1, 0)).toBeUndefined();
  });
});
