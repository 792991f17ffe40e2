import type { Json } from "../json";
import type { ErrorInfo, LogRecord, RecordData } from "../records";
import type { CronFiring } from "../schedule";
import type { Ending } from "../state";
import type { StoredStream } from "./streams";
import { jsonCopy } from "./structured";
import { CorruptLogError } from "../errors";
import { backoff, shiftRetries } from "../pause";
import { get, has, put } from "../table";

/**
 * A streamed output is where its rows are, under the step's key and the `attempt` that wrote them. `sensitive`: the
 * step asked for its output to be shown as "[REDACTED]" (replay still reads it); kept so that a reader of the fold,
 * such as time travel, redacts it as a reader of the log does.
 */
export type StepResult = { ok: true; output?: Json; meta?: Json; sensitive?: true } | { ok: true; stream: StoredStream & { attempt: number } } | { ok: false; error: ErrorInfo };

export interface PendingStep {
  attempt: number;
  failures: number;
  phase: "running" | "backoff";
  retryAt?: number;
}

/** A rollback handler's attempts so far, so that a rollback resumed after a crash goes on from them. */
export interface RollbackAttempts {
  attempt: number;
  failures: number;
  /** When its retry is due, while it waits for one. */
  retryAt?: number;
}

export interface ReceivedEvent {
  type: string;
  payload?: Json;
  at: number;
}

export interface Wait {
  type: string;
  dueAt: number;
  timeoutMs: number;
  outcome?: { event: ReceivedEvent } | { timedOut: true };
}

/**
 * What a code-first instance's log folds to: every settled step's result
 * (replay answers `step.do` from it), the steps, sleeps and event waits still
 * open, and events no wait has taken yet. Keys are `do:<name>-<n>`,
 * `sleep:<name>-<n>` and `waitForEvent:<name>-<n>`: type, name and occurrence.
 */
export interface CodeBook {
  workflow: string;
  instanceId: string;
  definitionHash: string;
  params?: Json;
  /** The cron firing that created the instance: `event.schedule`. */
  schedule?: CronFiring;
  createdAt: number;
  results: Record<string, StepResult>;
  steps: Record<string, PendingStep>;
  sleeps: Record<string, { dueAt: number; done: boolean }>;
  waits: Record<string, Wait>;
  /**
   * The sleeps still open, and the keys of the waits still open in the order they started: `sleeps` and `waits`
   * keep every answered one for replay, and status and matching, read after every record, look at open ones only.
   */
  openSleeps: number;
  openWaits: string[];
  /** Events that arrived before a wait for their type, oldest first. */
  buffer: ReceivedEvent[];
  /** The last attempt started of each step, for the context its rollback handler receives. */
  attempts: Record<string, number>;
  /** The saga, once an error escaped run() or a terminate asked for it. */
  rollback: { error: ErrorInfo; trigger: "error" | "terminate"; done: string[]; finished: boolean; attempts: Record<string, RollbackAttempts> } | null;
  /** Seq where each step, sleep and wait of this run first started: where a restart from it cuts the log. */
  firstStarted: Record<string, number>;
  idempotencyKeys: Record<string, number>;
  paused: { at: number } | null;
  ended: Ending | null;
}

export interface CodeState {
  seq: number;
  at: number;
  book: CodeBook;
}

export interface CodeFoldContext {
  stateBefore(seq: number): CodeState;
}

/** Gives buffered events to open waits: each event to the earliest wait for its type, each wait one event, in arrival order. */
function match(book: CodeBook): void {
  if (book.paused || !book.buffer.length) return;
  book.openWaits = book.openWaits.filter((key) => {
    const wait = get(book.waits, key)!;
    const index = book.buffer.findIndex((event) => event.type === wait.type);
    if (index < 0) return true;
    const [event] = book.buffer.splice(index, 1);
    wait.outcome = { event: event! };
    return false;
  });
}

/** The attempts a rollback handler has made so far, if the saga has started it. */
export function rollbackAttempts(book: CodeBook, key: string): RollbackAttempts | undefined {
  return book.rollback ? get(book.rollback.attempts, key) : undefined;
}

/** Where a step, sleep or wait first started in this run: a restart from it cuts the log there. */
function firstStart(book: CodeBook, key: string, seq: number): void {
  if (!has(book.firstStarted, key)) put(book.firstStarted, key, seq);
}

function shiftDeadlines(book: CodeBook, by: number): void {
  for (const sleep of Object.values(book.sleeps)) if (!sleep.done) sleep.dueAt += by;
  for (const wait of Object.values(book.waits)) if (!wait.outcome) wait.dueAt += by;
  shiftRetries(book.steps, by);
}

function fresh(book: CodeBook): CodeBook {
  return { ...book, results: {}, steps: {}, sleeps: {}, waits: {}, openSleeps: 0, openWaits: [], buffer: [], attempts: {}, rollback: null, firstStarted: {}, paused: null, ended: null };
}

/**
 * Folds one record into the state and returns the state after it. The one
 * rule of every fold here (docs/architecture.md, "Folds"): a fold owns the
 * state it is given, may change it in place, and returns the next; nobody
 * reads a state after handing it to a fold, and whoever compares before and
 * after reads what it compares first. This one changes the state in place:
 * a code-first book keeps every step's result and grows with the run, and
 * copying it for each record made a 2,000-step run quadratic (0.4 ms a
 * record by the end, measured). Deterministic: the result depends only on
 * the records, and the records a code-first run writes are its whole truth,
 * its ending included.
 */
export function applyCodeRecord(state: CodeState | undefined, record: LogRecord, context: CodeFoldContext): CodeState {
  if (!state) {
    if (record.type !== "instance.created") throw new CorruptLogError(`The log starts with ${record.type} at seq ${record.seq}, not instance.created.`);
    const { workflow, instanceId, definitionHash, params, schedule } = record.data;
    const book: CodeBook = {
      workflow,
      instanceId,
      definitionHash,
      ...(params === undefined ? {} : { params }),
      ...(schedule === undefined ? {} : { schedule }),
      createdAt: record.at,
      results: {},
      steps: {},
      sleeps: {},
      waits: {},
      openSleeps: 0,
      openWaits: [],
      buffer: [],
      attempts: {},
      rollback: null,
      firstStarted: {},
      idempotencyKeys: {},
      paused: null,
      ended: null,
    };
    return { seq: record.seq, at: record.at, book };
  }
  if (record.type === "instance.created") throw new CorruptLogError(`A second instance.created at seq ${record.seq}.`);
  let book = state.book;
  if (record.type === "instance.restarted") {
    // Cloudflare keeps what started before the step restarted from, and drops every buffered event.
    const base = record.data.cut === undefined ? fresh(book) : { ...context.stateBefore(record.data.cut).book, buffer: [], rollback: null, paused: null, ended: null };
    const prefixAt = record.data.cut === undefined ? record.at : context.stateBefore(record.data.cut).at;
    const restarted = { ...base, idempotencyKeys: book.idempotencyKeys };
    shiftDeadlines(restarted, record.at - prefixAt);
    return { seq: record.seq, at: record.at, book: restarted };
  }
  if (book.ended && record.type !== "instance.completed" && record.type !== "instance.errored") return { seq: record.seq, at: record.at, book };
  const draft = book;
  {
    switch (record.type) {
      case "step.started": {
        if (has(draft.results, record.data.key)) break;
        firstStart(draft, record.data.key, record.seq);
        put(draft.attempts, record.data.key, record.data.attempt);
        const failures = get(draft.steps, record.data.key)?.failures ?? 0;
        put(draft.steps, record.data.key, { attempt: record.data.attempt, failures, phase: "running" });
        break;
      }
      case "step.attempt_failed": {
        const step = get(draft.steps, record.data.key);
        if (!step || step.attempt !== record.data.attempt || step.phase !== "running") break;
        step.failures += 1;
        if (record.data.retryAt !== undefined) Object.assign(step, backoff(record.data.retryAt, draft.paused, record.at));
        break;
      }
      case "step.succeeded":
      case "step.failed": {
        const step = get(draft.steps, record.data.key);
        if (!step || step.attempt !== record.data.attempt || step.phase !== "running") break;
        delete draft.steps[record.data.key];
        put(draft.results, record.data.key, record.type === "step.succeeded" ? succeeded(record.data) : { ok: false, error: record.data.error });
        break;
      }
      case "timer.started":
        if (!has(draft.sleeps, record.data.id)) {
          put(draft.sleeps, record.data.id, { dueAt: record.data.dueAt, done: false });
          draft.openSleeps += 1;
        }
        firstStart(draft, record.data.id, record.seq);
        break;
      case "timer.fired": {
        const sleep = get(draft.sleeps, record.data.id);
        if (sleep && !sleep.done) {
          sleep.done = true;
          draft.openSleeps -= 1;
        }
        const wait = get(draft.waits, record.data.id);
        if (wait && !wait.outcome) {
          wait.outcome = { timedOut: true };
          draft.openWaits = draft.openWaits.filter((key) => key !== record.data.id);
        }
        break;
      }
      case "wait.started":
        if (!has(draft.waits, record.data.key)) {
          put(draft.waits, record.data.key, { type: record.data.type, dueAt: record.data.dueAt, timeoutMs: record.data.timeoutMs });
          draft.openWaits.push(record.data.key);
        }
        firstStart(draft, record.data.key, record.seq);
        match(draft);
        break;
      case "event.received": {
        const { idempotencyKey } = record.data;
        if (idempotencyKey !== undefined) {
          if (has(draft.idempotencyKeys, idempotencyKey)) break;
          put(draft.idempotencyKeys, idempotencyKey, record.seq);
        }
        draft.buffer.push({ type: record.data.type, ...(record.data.payload === undefined ? {} : { payload: record.data.payload }), at: record.at });
        match(draft);
        break;
      }
      case "rollback.started":
        draft.rollback ??= { error: record.data.error, trigger: record.data.trigger, done: [], finished: false, attempts: {} };
        break;
      case "rollback.step.started": {
        const attempts = draft.rollback?.attempts;
        if (attempts) put(attempts, record.data.key, { attempt: record.data.attempt, failures: get(attempts, record.data.key)?.failures ?? 0 });
        break;
      }
      case "rollback.step.attempt_failed": {
        const attempts = rollbackAttempts(draft, record.data.key);
        if (!attempts) break;
        attempts.failures += 1;
        if (record.data.retryAt !== undefined) attempts.retryAt = record.data.retryAt;
        break;
      }
      case "rollback.step.succeeded":
        draft.rollback?.done.push(record.data.key);
        break;
      case "rollback.completed":
      case "rollback.errored":
        if (draft.rollback) draft.rollback.finished = true;
        break;
      case "instance.paused":
        draft.paused ??= { at: record.at };
        break;
      case "instance.resumed":
        if (!draft.paused) break;
        shiftDeadlines(draft, record.at - draft.paused.at);
        draft.paused = null;
        match(draft);
        break;
      case "instance.terminated":
        draft.ended = { status: "terminated" };
        draft.steps = {};
        draft.paused = null;
        break;
      case "instance.completed": {
        // What status() shows: Cloudflare's JSON copy of the output.
        const output = jsonCopy(record.data);
        draft.ended ??= { status: "complete", ...(output === undefined ? {} : { output }) };
        break;
      }
      case "instance.errored":
        draft.ended ??= { status: "errored", error: record.data.error };
        break;
    }
  }
  return { seq: record.seq, at: record.at, book };
}

function succeeded({ output, meta, stream, attempt, sensitive }: RecordData["step.succeeded"]): StepResult {
  if (stream) return { ok: true, stream: { ...stream, attempt } };
  return { ok: true, ...(output === undefined ? {} : { output }), ...(meta === undefined ? {} : { meta }), ...(sensitive ? { sensitive } : {}) };
}

/** The streamed outputs a state still answers with: every other stored row is garbage. */
export function storedStreams(book: CodeBook): { key: string; attempt: number }[] {
  return Object.entries(book.results).flatMap(([key, result]) => (result.ok && "stream" in result ? [{ key, attempt: result.stream.attempt }] : []));
}

export function foldCode(records: readonly LogRecord[], from?: CodeState, context?: CodeFoldContext): CodeState {
  const ctx: CodeFoldContext = context ?? { stateBefore: (seq) => foldCode(records.filter((r) => r.seq < seq)) };
  let state = from;
  for (const record of records) state = applyCodeRecord(state, record, ctx);
  if (!state) throw new CorruptLogError("The log is empty.");
  return state;
}

/**
 * When the host must wake the instance next: the earliest sleep, event timeout, step retry (none while a saga runs:
 * it stopped those steps) or rollback handler's retry, after `after` if given (what a wake left due is taken up by
 * the replay of run() as it gets there, and must not hide what comes later).
 */
export function nextCodeWake(book: CodeBook, after = -Infinity): number | undefined {
  if (book.ended || book.paused) return undefined;
  const saga = book.rollback && !book.rollback.finished ? book.rollback : undefined;
  const times = [
    ...Object.values(book.sleeps).filter((s) => !s.done).map((s) => s.dueAt),
    ...Object.values(book.waits).filter((w) => !w.outcome).map((w) => w.dueAt),
    ...(saga ? [] : Object.values(book.steps).flatMap((s) => (s.phase === "backoff" && s.retryAt !== undefined ? [s.retryAt] : []))),
    ...(saga ? Object.values(saga.attempts).flatMap((a) => (a.retryAt === undefined ? [] : [a.retryAt])) : []),
  ].filter((at) => at > after);
  return times.length ? Math.min(...times) : undefined;
}
