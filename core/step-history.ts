import { waitTimedOut } from "./code/answers";
import { DEFAULT_PUBLIC_CONFIG } from "./code/config";
import { applyCodeRecord, type CodeBook, type CodeFoldContext, type CodeState } from "./code/fold";
import type { AnyWorkflowDefinition, WorkflowDefinition } from "./definition";
import { stepName } from "./instance-events";
import type { Json } from "./json";
import { redacted, type ErrorInfo, type LogRecord } from "./records";
import { publicError } from "./status";
import { get } from "./table";

/**
 * Code-first steps are `do`, `sleep` and `waitForEvent` calls; a machine's are
 * invoked actors, its delayed transitions and the events it received. Both
 * kinds of workflow have `rollback` steps: handlers or compensations.
 */
export type StepKind = "do" | "sleep" | "waitForEvent" | "rollback" | "step" | "timer" | "event";

export interface StepAttempt {
  attempt: number;
  start: number;
  end?: number;
  /** null while the attempt runs, or when it was cut off by a crash. */
  success: boolean | null;
  error?: { name: string; message: string };
}

/** One step as Cloudflare's local explorer lists it (its `steps[]`), from our log. */
export interface HistoryStep {
  /** The step's key in the log: `restart({ from: key })` restarts there when `restartable`. */
  key: string;
  /** The step's name, without Cloudflare's `-<n>`: a code-first step's, a machine step's actor, a timer's send id, an event's type. */
  name: string;
  /** Which call of that name and kind this is, from 1. */
  count: number;
  kind: StepKind;
  start: number;
  end?: number;
  duration?: number;
  /** The seq of the record that began the step, and of the one that ended it: they order steps exactly where their times tie to the millisecond. */
  startSeq: number;
  endSeq?: number;
  /** null while under way, and for a step the run left behind (see `cancelled`). */
  success: boolean | null;
  /** The run ended, or a machine left the state, before the step did. */
  cancelled?: true;
  attempts: StepAttempt[];
  config?: Json;
  /** A step's result ("[REDACTED]" when it is sensitive), the event a wait received, an event's payload. */
  output?: Json;
  error?: { name: string; message: string };
  restartable: boolean;
}

type Identity = Pick<HistoryStep, "key" | "name" | "count" | "kind" | "restartable"> & { config?: Json };

/** `<name>-<n>`, Cloudflare's step name, split. */
function numbered(named: string, separator: string): { name: string; count: number } {
  const at = named.lastIndexOf(separator);
  return at < 0 ? { name: named, count: 1 } : { name: named.slice(0, at), count: Number(named.slice(at + 1)) };
}

/** A machine step's config as the definition gives it, in Cloudflare's shape. */
function machineConfig(def: WorkflowDefinition, actor: string): Json {
  const { limit, delayMs, backoff, timeoutMs } = def.policy(actor);
  const compensate = def.compensator(actor);
  return { retries: { limit, delay: delayMs, backoff }, timeout: timeoutMs, ...(compensate ? { compensate } : {}) };
}

/** A step key: `do:<name>-<n>` and its kin for code-first, `<invoke id>#<n>` (`~undo` for a compensation) for machines. */
function identifyStep(def: AnyWorkflowDefinition, key: string): Identity {
  if (def.kind !== "machine") {
    const kind = key.slice(0, key.indexOf(":")) as "do" | "sleep" | "waitForEvent";
    return { key, kind, restartable: true, ...numbered(stepName(key), "-"), ...(kind === "do" ? { config: DEFAULT_PUBLIC_CONFIG } : {}) };
  }
  const undo = key.endsWith("~undo");
  const { name: invokeId, count } = numbered(undo ? key.slice(0, -"~undo".length) : key, "#");
  const actor = def.actorOf(invokeId) ?? invokeId;
  const compensator = undo ? def.compensator(actor) : undefined;
  return {
    key,
    name: actor,
    count,
    kind: undo ? "rollback" : "step",
    restartable: !undo,
    config: machineConfig(def, compensator ?? actor),
  };
}

/** The history of one run: what the log says since the run's last restart, kept in order of first appearance. */
class Run {
  readonly steps = new Map<string, HistoryStep>();
  private readonly eventCounts = new Map<string, number>();
  private readonly openWaits = new Set<string>();

  constructor(private readonly def: AnyWorkflowDefinition) {}

  /** A copy that the original's later records do not change. */
  copy(): Run {
    const copy = new Run(this.def);
    for (const [key, step] of this.steps) copy.steps.set(key, structuredClone(step));
    for (const [type, count] of this.eventCounts) copy.eventCounts.set(type, count);
    for (const key of this.openWaits) copy.openWaits.add(key);
    return copy;
  }

  apply(record: LogRecord): void {
    switch (record.type) {
      case "step.started": {
        const step = this.steps.get(record.data.key) ?? this.open(record.data.key, identifyStep(this.def, record.data.key), record);
        if (record.data.config !== undefined) step.config = record.data.config;
        step.attempts.push({ attempt: record.data.attempt, start: record.at, success: null });
        break;
      }
      case "step.attempt_failed":
      case "rollback.step.attempt_failed": {
        const step = this.steps.get(record.type === "step.attempt_failed" ? record.data.key : `rollback:${record.data.key}`);
        const attempt = step?.attempts.find((a) => a.attempt === record.data.attempt);
        if (attempt) Object.assign(attempt, { end: record.at, success: false, error: publicError(record.data.error) });
        break;
      }
      case "step.succeeded": {
        const step = this.steps.get(record.data.key);
        if (!step) break;
        const attempt = step.attempts.find((a) => a.attempt === record.data.attempt);
        if (attempt) Object.assign(attempt, { end: record.at, success: true });
        if (record.data.output !== undefined) step.output = record.data.output;
        this.finish(step, record, true);
        break;
      }
      case "step.failed": {
        const step = this.steps.get(record.data.key);
        if (step) this.finish(step, record, false, record.data.error);
        break;
      }
      case "timer.started": {
        const { name, count } = numbered(this.def.kind === "machine" ? record.data.id : stepName(record.data.id), this.def.kind === "machine" ? "#" : "-");
        const kind = this.def.kind === "machine" ? "timer" : "sleep";
        this.open(record.data.id, { key: record.data.id, name, count, kind, restartable: kind === "sleep", config: { durationMs: record.data.dueAt - record.at } }, record);
        break;
      }
      case "timer.fired": {
        const step = this.steps.get(record.data.id);
        if (step && (step.kind === "sleep" || step.kind === "timer")) this.finish(step, record, true);
        break;
      }
      case "timer.cancelled": {
        const step = this.steps.get(record.data.id);
        if (step && step.end === undefined) this.cancel(step, record);
        break;
      }
      case "wait.started":
        this.open(record.data.key, { ...identifyStep(this.def, record.data.key), config: { type: record.data.type, timeout: record.data.timeoutMs } }, record);
        this.openWaits.add(record.data.key);
        break;
      case "event.received": {
        // Code-first events are the output of the wait that takes them; a machine's are steps of their own.
        if (this.def.kind !== "machine") break;
        const count = (this.eventCounts.get(record.data.type) ?? 0) + 1;
        this.eventCounts.set(record.data.type, count);
        const step = this.open(`${record.data.type}#${count}`, { key: `${record.data.type}#${count}`, name: record.data.type, count, kind: "event", restartable: false }, record);
        if (record.data.payload !== undefined) step.output = record.data.payload;
        this.finish(step, record, true);
        break;
      }
      case "rollback.step.started": {
        const key = `rollback:${record.data.key}`;
        const step = this.steps.get(key) ?? this.open(key, { ...identifyStep(this.def, record.data.key), kind: "rollback", restartable: false, config: DEFAULT_PUBLIC_CONFIG }, record);
        if (record.data.config !== undefined) step.config = record.data.config;
        step.attempts.push({ attempt: record.data.attempt, start: record.at, success: null });
        break;
      }
      case "rollback.step.succeeded": {
        const step = this.steps.get(`rollback:${record.data.key}`);
        if (!step) break;
        const attempt = step.attempts.at(-1);
        if (attempt && attempt.success === null) Object.assign(attempt, { end: record.at, success: true });
        this.finish(step, record, true);
        break;
      }
      case "rollback.step.failed": {
        const step = this.steps.get(`rollback:${record.data.key}`);
        if (step) this.finish(step, record, false, record.data.error);
        break;
      }
      case "instance.completed":
      case "instance.errored":
      case "instance.terminated":
        for (const step of this.steps.values()) if (step.end === undefined) this.cancel(step, record);
        break;
    }
  }

  /** Waits the code-first fold has answered at `record`: with an event, or by timing out. */
  settleWaits(book: CodeBook, record: LogRecord): void {
    for (const key of this.openWaits) {
      const wait = get(book.waits, key);
      const outcome = wait?.outcome;
      const step = this.steps.get(key);
      if (!outcome || !step) continue;
      this.openWaits.delete(key);
      if (step.end !== undefined) continue;
      if ("event" in outcome) {
        const { type, payload, at: received } = outcome.event;
        step.output = { type, payload: payload ?? null, timestamp: received };
        this.finish(step, record, true);
      } else {
        this.finish(step, record, false, waitTimedOut(wait!.timeoutMs));
      }
    }
  }

  private open(mapKey: string, identity: Identity, { at, seq }: LogRecord): HistoryStep {
    const step: HistoryStep = { ...identity, start: at, startSeq: seq, success: null, attempts: [] };
    this.steps.set(mapKey, step);
    return step;
  }

  private finish(step: HistoryStep, { at, seq }: LogRecord, success: boolean, error?: ErrorInfo): void {
    Object.assign(step, { end: at, endSeq: seq, duration: at - step.start, success, ...(error ? { error: publicError(error) } : {}) });
  }

  private cancel(step: HistoryStep, { at, seq }: LogRecord): void {
    Object.assign(step, { end: at, endSeq: seq, duration: at - step.start, cancelled: true });
  }
}

/**
 * Builds an instance's step history from its log pushed a page at a time,
 * oldest first. It keeps the steps and, for code-first workflows, the fold
 * that settles their waits; never the records, so a long log with large
 * payloads is read through rather than held.
 *
 * A restart from a step shows the history as it stood before that step first
 * started (its `cut`), so the builder keeps a copy of its state at each seq in
 * `checkpoints`. A pass that meets a restart whose cut it has no copy for
 * lists it in `missingCheckpoints` and stops building; push the log again,
 * from the start, into a builder given those cuts. Restarts from a step are
 * rare, so most logs are read once.
 */
export class StepHistoryBuilder {
  private run: Run;
  private code: CodeState | undefined;
  private readonly saved = new Map<number, { run: Run; code: CodeState | undefined }>();
  private readonly wanted: ReadonlySet<number>;
  private readonly missing = new Set<number>();
  private readonly context: CodeFoldContext = { stateBefore: (seq) => structuredClone(this.saved.get(seq)!.code!) };

  constructor(
    private readonly def: AnyWorkflowDefinition,
    checkpoints: readonly number[] = [],
  ) {
    this.run = new Run(def);
    this.wanted = new Set(checkpoints);
  }

  push(records: readonly LogRecord[]): void {
    for (const record of records) {
      if (this.wanted.has(record.seq)) this.saved.set(record.seq, { run: this.run.copy(), code: this.code && structuredClone(this.code) });
      const cut = record.type === "instance.restarted" ? record.data.cut : undefined;
      if (cut !== undefined && !this.saved.has(cut)) this.missing.add(cut);
      if (this.missing.size) continue;
      this.apply(record);
    }
  }

  /** The cuts of restarts this pass could not rebuild: when any, push the log again into `new StepHistoryBuilder(def, missingCheckpoints)`. */
  get missingCheckpoints(): number[] {
    return [...this.missing];
  }

  /** The steps of the current run, in the order they first started. */
  steps(): HistoryStep[] {
    if (this.missing.size) throw new Error("This step history needs another pass over the log, with the checkpoints it lists.");
    return [...this.run.steps.values()];
  }

  private apply(record: LogRecord): void {
    if (record.type === "instance.restarted") {
      // As the fold does: a restart from a step keeps what the log held before that step first started.
      const { cut } = record.data;
      this.run = cut === undefined ? new Run(this.def) : this.saved.get(cut)!.run.copy();
    } else {
      this.run.apply(redacted(record));
    }
    if (this.def.kind === "code") {
      this.code = applyCodeRecord(this.code, record, this.context);
      this.run.settleWaits(this.code.book, record);
    }
  }
}

/**
 * An instance's steps in the order they first started, read from its whole
 * log: each with its attempts, config, output (redacted when sensitive) and
 * outcome. Like Cloudflare's explorer it shows the current run only: a
 * restart drops what it undid. Unlike it, rollback steps are listed.
 */
export function stepHistory(log: readonly LogRecord[], def: AnyWorkflowDefinition): HistoryStep[] {
  const first = new StepHistoryBuilder(def);
  first.push(log);
  if (!first.missingCheckpoints.length) return first.steps();
  const second = new StepHistoryBuilder(def, first.missingCheckpoints);
  second.push(log);
  return second.steps();
}
