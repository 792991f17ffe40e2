import type { StoredStream } from "./code/streams";
import type { Json } from "./json";
import type { Retention } from "./retention";
import type { CronFiring } from "./schedule";

export interface ErrorInfo {
  name: string;
  message: string;
  /** Set by the engine for failures that must not be retried (bad output, a timer that can't exist). */
  nonRetryable?: boolean;
}

/**
 * What each log record holds. Machine inputs (the records `fold` feeds to
 * `transition`) are step.succeeded, step.failed, timer.fired and
 * event.received. step.started and step.attempt_failed carry the attempt
 * counts that nothing else can tell. timer.started, timer.cancelled,
 * instance.completed and instance.errored are notices: consequences of an
 * input, written in the same batch so that readers of the history see them;
 * folding derives the same facts from the inputs and never needs them.
 */
export interface RecordData {
  /** `retention`: how long the instance is kept once finished (logs from before retention have none: the default). `schedule`: the cron firing that created it. */
  "instance.created": { workflow: string; instanceId: string; definitionHash: string; params?: Json; retention?: Retention; schedule?: CronFiring };
  /** `config`: a code-first step's config as its callback sees it, on the first attempt, when it is not the default. */
  "step.started": { key: string; attempt: number; config?: Json };
  "step.attempt_failed": { key: string; attempt: number; error: ErrorInfo; retryAt?: number };
  /**
   * `sensitive`: the step asked for its output to be shown as "[REDACTED]" wherever the log is shown; the log keeps it for replay.
   * `stream`: the step returned a ReadableStream, whose bytes are stored in rows under this key and attempt; `output` is then only its preview, for readers.
   */
  "step.succeeded": { key: string; attempt: number; output?: Json; sensitive?: true; meta?: Json; stream?: StoredStream };
  "step.failed": { key: string; attempt: number; error: ErrorInfo };
  "timer.started": { id: string; dueAt: number };
  "timer.cancelled": { id: string };
  "timer.fired": { id: string };
  "event.received": { type: string; payload?: Json; idempotencyKey?: string };
  /** Code-first workflows: `step.waitForEvent` began waiting for an event of `type` until `dueAt`. */
  "wait.started": { key: string; type: string; dueAt: number; timeoutMs: number };
  "instance.paused": Record<string, never>;
  "instance.resumed": Record<string, never>;
  "instance.terminated": Record<string, never>;
  /** `from` restarts at that step: the log before `cut` folds as it did, the rest as if it never happened. */
  "instance.restarted": { from?: string; cut?: number };
  /** Code-first saga: an error escaped run() (or a terminate asked for it), so started steps with rollback handlers are undone, newest first. */
  "rollback.started": { error: ErrorInfo; trigger: "error" | "terminate" };
  "rollback.step.started": { key: string; attempt: number; config?: Json };
  "rollback.step.attempt_failed": { key: string; attempt: number; error: ErrorInfo; retryAt?: number };
  "rollback.step.succeeded": { key: string };
  "rollback.step.failed": { key: string; error: ErrorInfo };
  "rollback.completed": Record<string, never>;
  "rollback.errored": { error: ErrorInfo };
  /** `meta`: code-first outputs that are more than JSON (a Date, a Map…) keep superjson's metadata here; `output` is their JSON form. */
  "instance.completed": { output?: Json; meta?: Json };
  "instance.errored": { error: ErrorInfo };
}

export type RecordType = keyof RecordData;

export type LogRecord<T extends RecordType = RecordType> = {
  [K in T]: { seq: number; id: string; at: number; type: K; data: RecordData[K] };
}[T];

export type RecordBody<T extends RecordType = RecordType> = {
  [K in T]: { type: K; data: RecordData[K] };
}[T];

/** What a reader is shown of a record: a sensitive step's output replaced by Cloudflare's marker. */
export function redacted(record: LogRecord): LogRecord {
  if (record.type !== "step.succeeded" || !record.data.sensitive || record.data.output === undefined) return record;
  const { meta: _meta, stream: _stream, ...data } = record.data;
  return { ...record, data: { ...data, output: "[REDACTED]" } };
}

export const MACHINE_INPUTS = ["step.succeeded", "step.failed", "timer.fired", "event.received"] as const satisfies readonly RecordType[];

export type MachineInput = LogRecord<(typeof MACHINE_INPUTS)[number]>;

export function isMachineInput(record: LogRecord): record is MachineInput {
  return (MACHINE_INPUTS as readonly string[]).includes(record.type);
}
