import { DEFAULT_PUBLIC_CONFIG } from "./code/config";
import { CodeStatusReader } from "./code/status";
import type { StoredStream } from "./code/streams";
import { fromStructured } from "./code/structured";
import { InvalidOperationError } from "./errors";
import type { Json } from "./json";
import { redacted, type ErrorInfo, type LogRecord, type RecordData } from "./records";
import type { InstanceStatusName } from "./status";

/** Cloudflare's `WorkflowInstanceEvent` (workers-types v5), the shape `subscribe()` delivers. */
export type WorkflowInstanceEvent = { instanceId: string; eventId: number; timestamp: number } & (
  /** workflow_waiting and workflow_running also mark a code-first run's moves between running and waiting, as Cloudflare's newer engine's. */
  | { type: "workflow_queued" | "workflow_running" | "workflow_paused" | "workflow_waiting_for_pause" | "workflow_waiting" | "workflow_terminated" | "rollback_started" | "rollback_completed" | "rollback_errored" }
  | { type: "workflow_started"; params?: Json }
  | { type: "workflow_completed"; output?: Json }
  | { type: "workflow_errored"; error: ErrorInfo }
  | { type: "step_errored" | "sleep_completed" | "wait_completed" | "wait_timed_out" | "rollback_step_completed"; stepName: string }
  /** A code-first step's config as its callback sees it (a delay function as "[dynamic]"). */
  | { type: "step_started" | "rollback_step_started"; stepName: string; config?: Json }
  /** A step that returned a ReadableStream completes with a fresh stream of its bytes. */
  | { type: "step_completed"; stepName: string; output?: Json | ReadableStream<Uint8Array> }
  | { type: "attempt_started" | "attempt_completed" | "rollback_attempt_started" | "rollback_attempt_completed"; stepName: string; attempt: number }
  | { type: "attempt_errored" | "rollback_attempt_errored"; stepName: string; attempt: number; retryDelayMs?: number; error: ErrorInfo }
  | { type: "rollback_step_errored"; stepName: string; error: ErrorInfo }
  | { type: "sleep_started"; stepName: string; durationMs: number }
  | { type: "wait_started"; stepName: string; eventType: string }
);

export type WorkflowInstanceEventType = WorkflowInstanceEvent["type"];

/** An event before it is numbered and stamped. */
type EventBody = WorkflowInstanceEvent extends infer E ? (E extends unknown ? Omit<E, "instanceId" | "eventId" | "timestamp"> : never) : never;

const TYPES: readonly WorkflowInstanceEventType[] = [
  "workflow_queued",
  "workflow_started",
  "workflow_running",
  "workflow_paused",
  "workflow_waiting_for_pause",
  "workflow_waiting",
  "workflow_completed",
  "workflow_errored",
  "workflow_terminated",
  "step_started",
  "step_completed",
  "step_errored",
  "attempt_started",
  "attempt_completed",
  "attempt_errored",
  "sleep_started",
  "sleep_completed",
  "wait_started",
  "wait_completed",
  "wait_timed_out",
  "rollback_started",
  "rollback_step_started",
  "rollback_step_completed",
  "rollback_step_errored",
  "rollback_attempt_started",
  "rollback_attempt_completed",
  "rollback_attempt_errored",
  "rollback_completed",
  "rollback_errored",
];

export const TERMINAL_EVENTS: readonly WorkflowInstanceEventType[] = ["workflow_completed", "workflow_errored", "workflow_terminated"];

export interface SubscribeOptions {
  /** Deliver events after this eventId (exclusive). */
  cursor?: number;
  filter?: WorkflowInstanceEventType[];
}

/** Cloudflare's check, with its message, and what was wrong. */
export function assertSubscribeOptions(options: unknown): asserts options is SubscribeOptions {
  const invalid = (why: string) => new InvalidOperationError("subscription.invalid", `Invalid Workflow subscription options: ${why}.`);
  if (options === undefined) return;
  if (typeof options !== "object" || options === null || Array.isArray(options)) throw invalid("pass an object like { cursor?, filter? }");
  const { cursor, filter, ...rest } = options as Record<string, unknown>;
  if (Object.keys(rest).length) throw invalid(`unknown option ${Object.keys(rest).join(", ")}`);
  if (cursor !== undefined && (!Number.isInteger(cursor) || (cursor as number) < 0)) throw invalid("cursor must be a whole number >= 0");
  if (filter !== undefined && (!Array.isArray(filter) || filter.some((type) => !TYPES.includes(type as WorkflowInstanceEventType)))) {
    throw invalid(`filter takes event types among ${TYPES.join(", ")}`);
  }
}

/** Cloudflare names a step `<name>-<n>`; code-first keys carry the call type before it. */
export const stepName = (key: string) => key.replace(/^(do|sleep|waitForEvent):/, "");

/** A fresh stream of a step's stored output; without one, events carry the output's preview. */
export type StreamReader = (key: string, attempt: number, stored: StoredStream) => ReadableStream<Uint8Array>;

/** A code-first step's config for its started event: the log keeps it only when it is not the default. */
function configOf(record: LogRecord<"step.started" | "rollback.step.started">): { config?: Json } {
  if (record.data.config !== undefined) return { config: record.data.config };
  return record.data.key.startsWith("do:") ? { config: DEFAULT_PUBLIC_CONFIG } : {};
}

/** Whether an instance runs a code-first workflow, told by the definition its log was created with. */
export type CodeFirstCheck = (definitionHash: string) => boolean;

/** The status each status event tells a subscriber of. */
const ANNOUNCED: Partial<Record<WorkflowInstanceEventType, InstanceStatusName>> = {
  workflow_running: "running",
  workflow_waiting: "waiting",
  workflow_waiting_for_pause: "waitingForPause",
  workflow_paused: "paused",
};

/**
 * Maps an instance's log to Cloudflare's instance events, numbered densely
 * from 1 in log order, so a cursor from one call is good for the next.
 */
export class InstanceEventStream {
  private eventId = 0;
  /** A code-first instance's status after each record; undefined for a machine's, whose status needs its definition to fold. */
  private status: CodeStatusReader | undefined;
  private announced: InstanceStatusName | undefined;
  private readonly waits = new Map<string, string>();
  private readonly openWaits: string[] = [];
  private readonly running = new Set<string>();
  private readonly rollbackAttempts = new Map<string, number>();
  private paused = false;

  constructor(
    private readonly instanceId: string,
    private readonly streamOf?: StreamReader,
    private readonly isCodeFirst?: CodeFirstCheck,
  ) {}

  push(records: readonly LogRecord[]): WorkflowInstanceEvent[] {
    const events: WorkflowInstanceEvent[] = [];
    for (const record of records) {
      for (const event of this.withStatusMoves(record, this.map(redacted(record)))) {
        events.push({ ...event, instanceId: this.instanceId, eventId: ++this.eventId, timestamp: record.at } as WorkflowInstanceEvent);
      }
    }
    return events;
  }

  /**
   * A record's events with the move between running and waiting that the
   * record made, as the status the log folds to after it: workflow_running
   * before them (the run woke to write them), workflow_waiting after them.
   * Pauses, resumes, restarts and rollbacks announce their own statuses.
   */
  private withStatusMoves(record: LogRecord, events: EventBody[]): EventBody[] {
    if (record.type === "instance.created" && this.isCodeFirst?.(record.data.definitionHash)) this.status = new CodeStatusReader();
    if (!this.status) return events;
    const status = this.status.after(record);
    const moved: EventBody[] = status === "running" && this.announced === "waiting" ? [{ type: "workflow_running" }, ...events] : [...events];
    for (const event of moved) this.announced = ANNOUNCED[event.type] ?? this.announced;
    if (status === "waiting" && this.announced === "running") {
      moved.push({ type: "workflow_waiting" });
      this.announced = "waiting";
    }
    return moved;
  }

  private map(record: LogRecord): EventBody[] {
    switch (record.type) {
      case "instance.created":
        return [{ type: "workflow_queued" }, { type: "workflow_started", ...(record.data.params === undefined ? {} : { params: record.data.params }) }, { type: "workflow_running" }];
      case "step.started": {
        const name = stepName(record.data.key);
        const first = !this.running.has(record.data.key);
        this.running.add(record.data.key);
        return [...(first ? [{ type: "step_started" as const, stepName: name, ...configOf(record) }] : []), { type: "attempt_started", stepName: name, attempt: record.data.attempt }];
      }
      case "step.attempt_failed":
        return [
          {
            type: "attempt_errored",
            stepName: stepName(record.data.key),
            attempt: record.data.attempt,
            error: { name: record.data.error.name, message: record.data.error.message },
            ...(record.data.retryAt === undefined ? {} : { retryDelayMs: record.data.retryAt - record.at }),
          },
        ];
      case "step.succeeded": {
        const { key, attempt } = record.data;
        const shown = this.completedOutput(record.data);
        return [
          { type: "attempt_completed", stepName: stepName(key), attempt },
          { type: "step_completed", stepName: stepName(key), ...(shown === undefined ? {} : { output: shown }) },
          ...this.settled(key),
        ];
      }
      case "step.failed":
        return [{ type: "step_errored", stepName: stepName(record.data.key) }, ...this.settled(record.data.key)];
      case "timer.started":
        return [{ type: "sleep_started", stepName: stepName(record.data.id), durationMs: record.data.dueAt - record.at }];
      case "timer.fired": {
        if (!this.waits.has(record.data.id)) return [{ type: "sleep_completed", stepName: stepName(record.data.id) }];
        return this.closeWait(record.data.id) ? [{ type: "wait_timed_out", stepName: stepName(record.data.id) }] : [];
      }
      case "wait.started":
        this.waits.set(record.data.key, record.data.type);
        this.openWaits.push(record.data.key);
        return [{ type: "wait_started", stepName: stepName(record.data.key), eventType: record.data.type }, ...this.deliverBuffered()];
      case "event.received":
        this.buffered.push(record.data.type);
        return this.deliverBuffered();
      case "instance.paused":
        // Cloudflare announces the pause, then the pause itself once no step callback runs.
        this.paused = true;
        this.pausePending = this.running.size > 0;
        return [{ type: "workflow_waiting_for_pause" }, ...(this.running.size ? [] : [{ type: "workflow_paused" as const }])];
      case "instance.resumed":
        this.paused = false;
        return [{ type: "workflow_running" }, ...this.deliverBuffered()];
      case "instance.restarted":
        this.paused = false;
        this.buffered.length = 0;
        this.openWaits.length = 0;
        this.running.clear();
        return [{ type: "workflow_running" }];
      case "instance.terminated":
        return [{ type: "workflow_terminated" }];
      case "instance.completed":
        return [{ type: "workflow_completed", ...(record.data.output === undefined ? {} : { output: fromStructured(record.data) as Json }) }];
      case "instance.errored":
        return [{ type: "workflow_errored", error: { name: record.data.error.name, message: record.data.error.message } }];
      case "rollback.started":
        return [{ type: "rollback_started" }];
      case "rollback.step.started":
        this.rollbackAttempts.set(record.data.key, record.data.attempt);
        return [
          ...(record.data.attempt === 1 ? [{ type: "rollback_step_started" as const, stepName: stepName(record.data.key), ...configOf(record) }] : []),
          { type: "rollback_attempt_started", stepName: stepName(record.data.key), attempt: record.data.attempt },
        ];
      case "rollback.step.attempt_failed":
        return [
          {
            type: "rollback_attempt_errored",
            stepName: stepName(record.data.key),
            attempt: record.data.attempt,
            error: { name: record.data.error.name, message: record.data.error.message },
            ...(record.data.retryAt === undefined ? {} : { retryDelayMs: record.data.retryAt - record.at }),
          },
        ];
      case "rollback.step.succeeded":
        return [
          { type: "rollback_attempt_completed", stepName: stepName(record.data.key), attempt: this.rollbackAttempts.get(record.data.key) ?? 1 },
          { type: "rollback_step_completed", stepName: stepName(record.data.key) },
        ];
      case "rollback.step.failed":
        return [{ type: "rollback_step_errored", stepName: stepName(record.data.key), error: { name: record.data.error.name, message: record.data.error.message } }];
      case "rollback.completed":
        return [{ type: "rollback_completed" }];
      case "rollback.errored":
        return [{ type: "rollback_errored" }];
      default:
        return [];
    }
  }

  /** What step_completed carries: a streamed output as a fresh stream (its preview without a reader), any other as the value it was. */
  private completedOutput(data: RecordData["step.succeeded"]): Json | ReadableStream<Uint8Array> | undefined {
    if (data.stream) return this.streamOf ? this.streamOf(data.key, data.attempt, data.stream) : data.output;
    return data.output === undefined ? undefined : (fromStructured(data) as Json);
  }

  /** Events not yet taken, by type, oldest first: matched to waits as the code-first fold matches them. */
  private readonly buffered: string[] = [];

  private deliverBuffered(): EventBody[] {
    const completed: EventBody[] = [];
    if (this.paused) return completed;
    for (const key of [...this.openWaits]) {
      const index = this.buffered.indexOf(this.waits.get(key)!);
      if (index < 0) continue;
      this.buffered.splice(index, 1);
      this.closeWait(key);
      completed.push({ type: "wait_completed", stepName: stepName(key) });
    }
    return completed;
  }

  /** A step settled; a pause that waited for the last running callback takes effect now. */
  private settled(key: string): EventBody[] {
    this.running.delete(key);
    return this.paused && this.running.size === 0 && this.pauseAnnounced() ? [{ type: "workflow_paused" }] : [];
  }

  private pausePending = false;

  private pauseAnnounced(): boolean {
    const pending = this.pausePending;
    this.pausePending = false;
    return pending;
  }

  private closeWait(key: string): boolean {
    const index = this.openWaits.indexOf(key);
    if (index < 0) return false;
    this.openWaits.splice(index, 1);
    return true;
  }
}
