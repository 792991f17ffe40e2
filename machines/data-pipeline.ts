import { dagTasks, defineDag, NonRetryableError, type StepConfig } from "../index";

/**
 * A data pipeline as a DAG: ingest a source into partitions of records,
 * transform the partitions in parallel (a map, two at a time), join the
 * transformed partitions into a summary, and publish a manifest of them.
 *
 * Nothing outside is called: the source and the sink are simulated inside
 * the tasks. Every transform is idempotent: its output depends only on its
 * input, and it writes to an object named after the source and partition,
 * so a re-run after a crash rewrites the same object with the same bytes. The
 * sink refuses the first write of partition 1 (a simulated transient 503), so
 * that item is retried on its own while the other partitions go on.
 */

export const MAX_PARTITIONS = 8;

/** Partitions transformed at once. */
export const TRANSFORM_CONCURRENCY = 2;

export interface PipelineParams {
  source: string;
  /** 1 to 8. */
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
  /** The step's id, sent to the sink as the write's idempotency key. */
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

export interface Publication {
  manifest: string;
  /** The step's id, sent with the manifest as its idempotency key. */
  publishId: string;
  checksum: number;
}

export interface PipelineOutput {
  source: string;
  summary: PipelineSummary;
  manifest: string;
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

function ingest({ source, partitions }: PipelineParams): Batch[] {
  if (!source) throw new NonRetryableError('data-pipeline needs params like {"source": "orders", "partitions": 3}');
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw new NonRetryableError(`partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${JSON.stringify(partitions)}`);
  }
  return Array.from({ length: partitions }, (_, partition) => ({ partition, records: sourceRecords(source, partition) }));
}

function transform(source: string, batch: Batch, attempt: number, writeId: string): TransformResult {
  const cleaned = [...new Set(batch.records.map((record) => record.trim().toLowerCase()))].sort();
  // The simulated sink throttles the first write of partition 1.
  if (batch.partition === 1 && attempt === 1) throw new Error(`sink returned 503 for partition 1 (simulated transient error)`);
  return {
    partition: batch.partition,
    object: `warehouse/${source}/part-${batch.partition}.jsonl`,
    writeId,
    records: cleaned.length,
    duplicatesDropped: batch.records.length - cleaned.length,
    checksum: checksumOf(cleaned),
  };
}

/** The map hands its results back in input order, so the summary is in partition order whatever order they finished in. */
function join(results: readonly TransformResult[]): PipelineSummary {
  return {
    partitions: results.length,
    records: results.reduce((sum, r) => sum + r.records, 0),
    duplicatesDropped: results.reduce((sum, r) => sum + r.duplicatesDropped, 0),
    checksum: checksumOf(results.map((r) => `${r.object}:${r.checksum}`)),
    objects: results.map((r) => r.object),
  };
}

const transient: StepConfig = { retries: { limit: 3, delay: "5 seconds", backoff: "exponential" }, timeout: "15 minutes" };

export const dataPipeline = defineDag({
  name: "data-pipeline",
  tasks: dagTasks<PipelineParams>()
    .task("ingest", { ...transient, run: (_, { params }) => ingest(params ?? ({} as PipelineParams)) })
    .map("transform", {
      over: "ingest",
      concurrency: TRANSFORM_CONCURRENCY,
      ...transient,
      run: (batch, { params, attempt, stepId }) => transform(params.source, batch, attempt, stepId),
    })
    .task("join", { needs: ["transform"], ...transient, run: ({ transform }) => join(transform) })
    .task("publish", {
      needs: ["join"],
      ...transient,
      run: ({ join }, { params, stepId }): Publication => ({ manifest: `warehouse/${params.source}/_manifest.json`, publishId: stepId, checksum: join.checksum }),
    }),
  output: ({ join, publish }, params): PipelineOutput => ({ source: params.source, summary: join, manifest: publish.manifest }),
});
