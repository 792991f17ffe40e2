import { assign, setup } from "xstate";
import { defineWorkflow, NonRetryableError, step, type StepArgs, type StepConfig } from "../index";
import { required } from "./params";

/**
 * A data pipeline: ingest a source into 1 to 4 partitions of records, fan out
 * one transform per partition in parallel (a region per partition slot;
 * slots past `partitions` finish at once), join when every region is done,
 * and aggregate the transformed partitions into a summary.
 *
 * Nothing outside is called: the source and the sink are simulated inside
 * the step bodies. Every transform is idempotent: its output depends only on
 * its input, and it writes to an object named after the source and partition,
 * so a re-run after a crash rewrites the same object with the same bytes. The
 * sink refuses the first write of partition 1 (a simulated transient 503), so
 * that transform is retried.
 */

export const MAX_PARTITIONS = 4;

export interface PipelineParams {
  source: string;
  /** 1 to 4. */
  partitions: number;
}

export interface Batch {
  partition: number;
  records: string[];
}

export interface TransformResult {
  partition: number;
  /** Where the partition was written: the same name on every run, which makes the write idempotent. */
  object: string;
  /** The step key, sent to the sink as the write's idempotency key. */
  writeId: string;
  records: number;
  duplicatesDropped: number;
  checksum: number;
}

export interface PipelineSummary {
  partitions: number;
  records: number;
  duplicatesDropped: number;
  checksum: number;
  objects: string[];
}

export type PipelineOutcome = "done" | "failed" | "rejected";

export interface PipelineContext {
  source: string;
  partitions: number;
  batches: Batch[];
  /** One slot per region; null until that region's transform has succeeded (or for slots past `partitions`). */
  results: (TransformResult | null)[];
  summary: PipelineSummary | null;
  error: { step: string; message: string } | null;
  outcome: PipelineOutcome | null;
}

export interface PipelineOutput {
  source: string;
  outcome: PipelineOutcome | null;
  summary: PipelineSummary | null;
  error: PipelineContext["error"];
}

/** A stable checksum of some strings (Adler-32 style, so the same records always sum the same). */
function checksumOf(lines: readonly string[]): number {
  let a = 1;
  let b = 0;
  for (const line of lines) {
    for (const char of `${line}\n`) {
      a = (a + char.charCodeAt(0)) % 65521;
      b = (b + a) % 65521;
    }
  }
  return b * 65536 + a;
}

/** What the simulated source holds for a partition: 3 + partition records, messy on purpose (padding, case, one duplicate). */
function sourceRecords(source: string, partition: number): string[] {
  const records = Array.from({ length: 3 + partition }, (_, i) => `  ${source.toUpperCase()}/P${partition}/Row-${i} `);
  return [...records, records[0]!];
}

function errorMessage(error: unknown): string {
  return typeof error === "object" && error !== null && "message" in error ? String((error as { message: unknown }).message) : String(error);
}

const pipelineMachine = setup({
  types: {
    context: {} as PipelineContext,
    input: {} as PipelineParams,
    output: {} as PipelineOutput,
  },
  actors: {
    ingest: step(async ({ input }: StepArgs<PipelineParams>): Promise<Batch[]> => {
      const { source, partitions } = input;
      if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
        throw new NonRetryableError(`partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${JSON.stringify(partitions)}`);
      }
      if (!source) throw new NonRetryableError("source must name something to ingest");
      return Array.from({ length: partitions }, (_, partition) => ({ partition, records: sourceRecords(source, partition) }));
    }),
    transform: step(async ({ input, attempt, stepId }: StepArgs<{ source: string; batch: Batch }>): Promise<TransformResult> => {
      const { source, batch } = input;
      const cleaned = [...new Set(batch.records.map((record) => record.trim().toLowerCase()))].sort();
      // The simulated sink throttles the first write of partition 1.
      if (batch.partition === 1 && attempt === 1) throw new Error(`sink returned 503 for partition 1 (simulated transient error)`);
      return {
        partition: batch.partition,
        object: `warehouse/${source}/part-${batch.partition}.jsonl`,
        writeId: stepId,
        records: cleaned.length,
        duplicatesDropped: batch.records.length - cleaned.length,
        checksum: checksumOf(cleaned),
      };
    }),
    aggregate: step(async ({ input }: StepArgs<{ results: TransformResult[] }>): Promise<PipelineSummary> => {
      const results = [...input.results].sort((x, y) => x.partition - y.partition);
      return {
        partitions: results.length,
        records: results.reduce((sum, r) => sum + r.records, 0),
        duplicatesDropped: results.reduce((sum, r) => sum + r.duplicatesDropped, 0),
        checksum: checksumOf(results.map((r) => `${r.object}:${r.checksum}`)),
        objects: results.map((r) => r.object),
      };
    }),
  },
  guards: {
    hasPartition: ({ context }, { slot }: { slot: number }) => slot < context.batches.length,
  },
  actions: {
    storeResult: assign({
      results: ({ context, event }, { slot }: { slot: number }) =>
        context.results.map((result, i) => (i === slot && "output" in event ? (event.output as TransformResult) : result)),
    }),
    recordError: assign({
      error: ({ event }, { step }: { step: string }) => ({ step, message: "error" in event ? errorMessage(event.error) : "unknown error" }),
    }),
  },
}).createMachine({
  id: "data-pipeline",
  context: ({ input }) => ({
    source: required(input?.source, 'data-pipeline needs params like {"source": "orders", "partitions": 3}'),
    partitions: input.partitions,
    batches: [],
    results: Array.from({ length: MAX_PARTITIONS }, () => null),
    summary: null,
    error: null,
    outcome: null,
  }),
  initial: "ingesting",
  states: {
    ingesting: {
      invoke: {
        id: "ingest",
        src: "ingest",
        input: ({ context }) => ({ source: context.source, partitions: context.partitions }),
        onDone: { target: "transforming", actions: assign({ batches: ({ event }) => event.output }) },
        onError: { target: "rejected", actions: { type: "recordError", params: { step: "ingest" } } },
      },
    },
    transforming: {
      type: "parallel",
      onDone: "aggregating",
      // One region per partition slot; the same shape four times, so that each region is plain to read.
      states: {
        p0: {
          initial: "routing",
          states: {
            routing: { always: [{ guard: { type: "hasPartition", params: { slot: 0 } }, target: "running" }, { target: "skipped" }] },
            running: {
              invoke: {
                id: "transform-0",
                src: "transform",
                input: ({ context }) => ({ source: context.source, batch: context.batches[0]! }),
                onDone: { target: "done", actions: { type: "storeResult", params: { slot: 0 } } },
                onError: { target: "#data-pipeline.failed", actions: { type: "recordError", params: { step: "transform-0" } } },
              },
            },
            done: { type: "final" },
            skipped: { type: "final" },
          },
        },
        p1: {
          initial: "routing",
          states: {
            routing: { always: [{ guard: { type: "hasPartition", params: { slot: 1 } }, target: "running" }, { target: "skipped" }] },
            running: {
              invoke: {
                id: "transform-1",
                src: "transform",
                input: ({ context }) => ({ source: context.source, batch: context.batches[1]! }),
                onDone: { target: "done", actions: { type: "storeResult", params: { slot: 1 } } },
                onError: { target: "#data-pipeline.failed", actions: { type: "recordError", params: { step: "transform-1" } } },
              },
            },
            done: { type: "final" },
            skipped: { type: "final" },
          },
        },
        p2: {
          initial: "routing",
          states: {
            routing: { always: [{ guard: { type: "hasPartition", params: { slot: 2 } }, target: "running" }, { target: "skipped" }] },
            running: {
              invoke: {
                id: "transform-2",
                src: "transform",
                input: ({ context }) => ({ source: context.source, batch: context.batches[2]! }),
                onDone: { target: "done", actions: { type: "storeResult", params: { slot: 2 } } },
                onError: { target: "#data-pipeline.failed", actions: { type: "recordError", params: { step: "transform-2" } } },
              },
            },
            done: { type: "final" },
            skipped: { type: "final" },
          },
        },
        p3: {
          initial: "routing",
          states: {
            routing: { always: [{ guard: { type: "hasPartition", params: { slot: 3 } }, target: "running" }, { target: "skipped" }] },
            running: {
              invoke: {
                id: "transform-3",
                src: "transform",
                input: ({ context }) => ({ source: context.source, batch: context.batches[3]! }),
                onDone: { target: "done", actions: { type: "storeResult", params: { slot: 3 } } },
                onError: { target: "#data-pipeline.failed", actions: { type: "recordError", params: { step: "transform-3" } } },
              },
            },
            done: { type: "final" },
            skipped: { type: "final" },
          },
        },
      },
    },
    aggregating: {
      invoke: {
        id: "aggregate",
        src: "aggregate",
        input: ({ context }) => ({ results: context.results.filter((result): result is TransformResult => result !== null) }),
        onDone: { target: "done", actions: assign({ summary: ({ event }) => event.output }) },
        onError: { target: "failed", actions: { type: "recordError", params: { step: "aggregate" } } },
      },
    },
    done: { type: "final", entry: assign({ outcome: "done" }) },
    failed: { type: "final", entry: assign({ outcome: "failed" }) },
    rejected: { type: "final", entry: assign({ outcome: "rejected" }) },
  },
  output: ({ context }) => ({ source: context.source, outcome: context.outcome, summary: context.summary, error: context.error }),
});

const transient: StepConfig = { retries: { limit: 3, delay: "5 seconds", backoff: "exponential" }, timeout: "15 minutes" };

export const dataPipeline = defineWorkflow({
  name: "data-pipeline",
  machine: pipelineMachine,
  steps: { ingest: transient, transform: transient, aggregate: transient },
});
