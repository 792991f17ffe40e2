import type { ExecutableActionObject } from "xstate";
import type { WorkflowDefinition } from "./definition";
import { TERMINATED_FOR_ROLLBACK } from "./saga";
import { createdRecord, type Creation } from "./creation";
import { applyRecord, type FoldContext } from "./fold";
import { toJson, type Json } from "./json";
import { accepts, errorInfo } from "./planner";
import { cannotResume, cannotTerminate, eventRecord } from "./refusals";
import { restartRecord } from "./restart";
import type { ErrorInfo, LogRecord, RecordBody } from "./records";
import { nextRetryAt } from "./retry";
import type { Book, InstanceState } from "./state";
import { statusName } from "./status";
import { get } from "./table";

export type StepOutcome = { ok: true; output: unknown } | { ok: false; error: ErrorInfo };

/** What a host asks of an instance. Each is decided against the current state alone. */
export type Command =
  | { type: "event"; event: string; payload?: unknown; idempotencyKey?: string }
  | { type: "step.result"; key: string; attempt: number; outcome: StepOutcome }
  /** Fire every timer and retry due at `now`. */
  | { type: "wake" }
  /** After loading from the log: start again every step whose attempt was cut off. */
  | { type: "recover" }
  | { type: "pause" }
  | { type: "resume" }
  /** `rollback` asks code-first workflows to run their rollback handlers first. */
  | { type: "terminate"; rollback?: boolean }
  /** `cut` is the seq where step `from` first started; the host finds it in the log. */
  | { type: "restart"; from?: string; cut?: number };

/** Work for the live host, to do after the records are durable. */
export type Effect =
  | { type: "step.run"; key: string; src: string; attempt: number; input: Json | undefined; timeoutMs: number }
  | { type: "step.stop"; key: string }
  | { type: "action.run"; action: ExecutableActionObject };

export interface DecideContext extends FoldContext {
  now: number;
  nextId(): string;
}

export interface Decision {
  /** To append, in order, in one atomic write. Empty when the command changes nothing. */
  records: LogRecord[];
  state: InstanceState;
  effects: Effect[];
}

/** A wake fires at most this many timers, so a zero-delay loop cannot hold the host; the rest fire on the next wake. */
const MAX_FIRINGS_PER_WAKE = 1000;

const CONSEQUENTIAL = new Set(["instance.created", "step.succeeded", "step.failed", "timer.fired", "event.received", "instance.resumed", "instance.restarted", "rollback.started"]);

/** What a batch compares across one record: read before the record is folded, since a fold may change the state in place. */
interface Seen {
  rollback: boolean;
  ended: boolean;
  /** The id of each armed timer, by its send id. */
  timers: Map<string, string>;
}

function seen(book: Book): Seen {
  return { rollback: book.rollback !== null, ended: book.ended !== null, timers: new Map(Object.values(book.timers).map((timer) => [timer.sendId, timer.id])) };
}

class Batch {
  readonly records: LogRecord[] = [];
  private readonly actions: ExecutableActionObject[] = [];
  /** The attempt of each step running before the command. */
  private readonly wasRunning: Map<string, number>;

  constructor(
    private readonly def: WorkflowDefinition,
    public state: InstanceState | undefined,
    private readonly ctx: DecideContext,
  ) {
    this.wasRunning = new Map(
      Object.values(state?.book.steps ?? {})
        .filter((entry) => entry.phase === "running")
        .map((entry) => [entry.key, entry.attempt]),
    );
  }

  get current(): InstanceState {
    return this.state!;
  }

  append(body: RecordBody): void {
    const before = this.state;
    const consequential = CONSEQUENTIAL.has(body.type);
    const was = consequential && before ? seen(before.book) : undefined;
    const record = { ...body, seq: (before?.seq ?? 0) + 1, id: this.ctx.nextId(), at: this.ctx.now } as LogRecord;
    const { state, actions } = applyRecord(this.def, before, record, this.ctx);
    this.records.push(record);
    this.state = state;
    this.actions.push(...actions);
    if (consequential) this.noteConsequences(was, record);
  }

  /** Writes what the input caused: timers armed or dropped, steps to start, the ending. */
  private noteConsequences(before: Seen | undefined, cause: LogRecord): void {
    let after = this.current.book;
    const fired = cause.type === "timer.fired" ? cause.data.id : undefined;
    if (!before?.rollback && after.rollback && cause.type !== "rollback.started") {
      // The notice is itself consequential (it starts the first compensation), so read the state again after it.
      this.append({ type: "rollback.started", data: { error: after.rollback.error, trigger: after.rollback.trigger } });
      after = this.current.book;
    }
    for (const timer of Object.values(after.timers)) {
      if (before?.timers.get(timer.sendId) !== timer.id) this.append({ type: "timer.started", data: { id: timer.id, dueAt: timer.dueAt } });
    }
    for (const [sendId, id] of before?.timers ?? []) {
      if (id !== fired && get(after.timers, sendId)?.id !== id) this.append({ type: "timer.cancelled", data: { id } });
    }
    if (!after.paused) {
      for (const entry of Object.values(after.steps)) {
        if (entry.phase === "ready") this.append({ type: "step.started", data: { key: entry.key, attempt: entry.attempt + 1 } });
      }
    }
    const sagaEnded = before?.rollback && !before.ended && after.ended && cause.type !== "instance.terminated";
    if (sagaEnded && after.rollback?.failed) this.append({ type: "rollback.errored", data: { error: after.rollback.failed } });
    else if (sagaEnded) this.append({ type: "rollback.completed", data: {} });
    if (sagaEnded && after.ended?.status === "terminated") this.append({ type: "instance.terminated", data: {} });
    if (!before?.ended && after.ended?.status === "complete") this.append({ type: "instance.completed", data: after.ended.output === undefined ? {} : { output: after.ended.output } });
    if (!before?.ended && after.ended?.status === "errored") this.append({ type: "instance.errored", data: { error: after.ended.error } });
  }

  finish(): Decision {
    const effects: Effect[] = [];
    const { wasRunning } = this;
    const steps = this.current.book.steps;
    for (const [key, attempt] of wasRunning) {
      const entry = get(steps, key);
      if (!entry || (entry.phase !== "running" && entry.phase !== "settled") || entry.attempt !== attempt) effects.push({ type: "step.stop", key });
    }
    effects.push(...this.actions.map((action) => ({ type: "action.run" as const, action })));
    for (const entry of Object.values(steps)) {
      if (entry.phase === "running" && wasRunning.get(entry.key) !== entry.attempt) {
        effects.push({ type: "step.run", key: entry.key, src: entry.src, attempt: entry.attempt, input: entry.input, timeoutMs: this.def.policy(entry.src).timeoutMs });
      }
    }
    return { records: this.records, state: this.current, effects };
  }
}

/** The first records of an instance. Refuses params that the log could not carry. */
export function create(def: WorkflowDefinition, instanceId: string, creation: Creation, ctx: DecideContext): Decision {
  const batch = new Batch(def, undefined, ctx);
  batch.append(createdRecord(def, instanceId, creation));
  return batch.finish();
}

function stepResult(def: WorkflowDefinition, batch: Batch, command: Extract<Command, { type: "step.result" }>, now: number): void {
  const entry = get(batch.current.book.steps, command.key);
  if (!entry || entry.phase !== "running" || entry.attempt !== command.attempt) return;
  let outcome = command.outcome;
  if (outcome.ok) {
    let output: Json | undefined;
    try {
      output = toJson(outcome.output, `the output of step "${entry.invokeId}"`);
    } catch (error) {
      // A refusal of toJson's, or what reading the value threw (a getter, a proxy): either way the output cannot be kept.
      outcome = { ok: false, error: { ...errorInfo(error), nonRetryable: true } };
    }
    if (outcome.ok) {
      batch.append({ type: "step.succeeded", data: output === undefined ? { key: entry.key, attempt: entry.attempt } : { key: entry.key, attempt: entry.attempt, output } });
      return;
    }
  }
  const retryAt = nextRetryAt(def.policy(entry.src), entry.failures + 1, outcome.error, now);
  const failure = { key: entry.key, attempt: entry.attempt, error: outcome.error };
  batch.append({ type: "step.attempt_failed", data: retryAt === undefined ? failure : { ...failure, retryAt } });
  if (retryAt === undefined) batch.append({ type: "step.failed", data: failure });
}

function wake(batch: Batch, now: number): void {
  for (let fired = 0; fired < MAX_FIRINGS_PER_WAKE; fired++) {
    const { book } = batch.current;
    if (book.ended || book.paused) return;
    const timers = Object.values(book.timers).filter((t) => t.dueAt <= now);
    const retries = Object.values(book.steps).filter((e) => e.phase === "backoff" && (e.retryAt ?? Infinity) <= now);
    const due = [
      ...timers.map((t) => ({ at: t.dueAt, id: t.id, body: { type: "timer.fired", data: { id: t.id } } as RecordBody })),
      ...retries.map((e) => ({ at: e.retryAt!, id: e.key, body: { type: "step.started", data: { key: e.key, attempt: e.attempt + 1 } } as RecordBody })),
    ].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
    const next = due[0];
    if (!next) return;
    batch.append(next.body);
  }
}

/**
 * Decides a command: validates it (a refusal throws a typed error and
 * writes nothing), then returns the records to append, the state after them,
 * and the effects for the live host. Pure: time and ids come in `ctx`.
 */
export function decide(def: WorkflowDefinition, state: InstanceState, command: Command, ctx: DecideContext): Decision {
  const batch = new Batch(def, state, ctx);
  const { book } = state;
  switch (command.type) {
    case "event": {
      const deferred = book.paused?.deferred.flatMap((input) => (input.type === "event.received" ? [input.data.payload] : [])) ?? [];
      const takenNow = () => !book.paused && accepts(state.machine, { type: command.event, payload: command.payload });
      const record = eventRecord(book, command, [...book.inbox.map((event) => event.payload), ...deferred], takenNow);
      if (record) batch.append(record);
      break;
    }
    case "step.result":
      stepResult(def, batch, command, ctx.now);
      break;
    case "wake":
      wake(batch, ctx.now);
      break;
    case "recover":
      if (book.ended) break;
      for (const entry of Object.values(book.steps)) {
        if (entry.phase === "running" || entry.phase === "ready") batch.append({ type: "step.started", data: { key: entry.key, attempt: entry.attempt + 1 } });
      }
      break;
    case "pause":
      if (!book.ended && !book.paused) batch.append({ type: "instance.paused", data: {} });
      break;
    case "resume":
      if (!book.paused || book.ended) throw cannotResume(book.instanceId, statusName(state));
      batch.append({ type: "instance.resumed", data: {} });
      break;
    case "terminate":
      if (book.ended) throw cannotTerminate(book.instanceId, book.ended.status);
      if (command.rollback && book.compensable.length && !book.rollback) {
        batch.append({ type: "rollback.started", data: { error: TERMINATED_FOR_ROLLBACK, trigger: "terminate" } });
        break;
      }
      batch.append({ type: "instance.terminated", data: {} });
      break;
    case "restart":
      batch.append(restartRecord(book.instanceId, command.from, () => command.cut));
      break;
  }
  return batch.finish();
}
