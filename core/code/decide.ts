import type { Creation } from "../creation";
import { createdRecord } from "../creation";
import { assertEventType } from "../ids";
import type { Json } from "../json";
import { errorInfo } from "../planner";
import type { ErrorInfo, LogRecord, RecordBody, RecordData } from "../records";
import { cannotResume, cannotTerminate, eventRecord } from "../refusals";
import { restartRecord } from "../restart";
import { TERMINATED_FOR_ROLLBACK, undoOrder } from "../saga";
import { isNonRetryable, retryDelay } from "../retry";
import { get, has } from "../table";
import { assertMilliseconds, assertStepCall } from "./call-checks";
import { assertStepName, MAX_SLEEP_MS, WorkflowFatalError } from "./config";
import type { CodeWorkflowDefinition } from "./definition";
import { applyCodeRecord, rollbackAttempts, type CodeFoldContext, type CodeState } from "./fold";
import { freshSession, type CodeSession, type HandlerCall, type StepCall } from "./session";
import { codeStatusName } from "./status";
import type { StoredStream } from "./streams";
import { toStructured } from "./structured";

/**
 * The code-first kernel. A code-first instance is its log (folded to a
 * `CodeState`) and the session of the live pass of run() (`CodeSession`);
 * every change to either goes through `decideCode`, which checks a command
 * (a refusal throws and changes nothing), appends its records to the state
 * and returns them with the effects the host carries out once they are
 * durable. No I/O, no clock, no randomness: time and ids come in the context.
 * The in-object TypeScript run() is one client; a run() in another process
 * (Python) drives the same commands.
 *
 * Mutation rule (as for every fold here, see docs/architecture.md): a kernel
 * owns the state and session it is given and changes them in place; a host
 * keeps one kernel per instance and never reads a state it has passed on.
 */
export interface CodeKernel {
  state: CodeState;
  session: CodeSession;
}

/** Cloudflare's default timeout for waitForEvent. */
export const DEFAULT_WAIT_MS = 24 * 3_600_000;

/** What an attempt came to, as its host saw it. */
export type AttemptOutcome =
  | { ok: true; value: unknown }
  /** A ReadableStream output, its bytes already stored: the record keeps where, and readers see the preview. */
  | { ok: true; stream: StoredStream; preview: string }
  /** `fatal`: the output could not be kept and the instance ends (a stream past its limits). */
  | { ok: false; error: ErrorInfo; fatal?: { attempt: string; instance: string }; delay?: RetryDelayAnswer };

/** What the step's delay function answered, when it has one and the failure is retried. */
export type RetryDelayAnswer = { ms: number } | { error: ErrorInfo };

export type CodeCommand =
  /** run() calls `step.do`. `handler`: the rollback handler the call registers. */
  | { type: "step.call"; pass: number; name: string; call: Omit<StepCall, "name" | "count">; handler?: Omit<HandlerCall, "name" | "count"> }
  | { type: "sleep"; pass: number; name: string; ms: number }
  | { type: "sleep.until"; pass: number; name: string; at: number }
  | { type: "wait"; pass: number; name: string; eventType: unknown; timeoutMs?: number }
  | { type: "step.result"; key: string; attempt: number; outcome: AttemptOutcome }
  | { type: "run.completed"; pass: number; output: unknown }
  | { type: "run.failed"; pass: number; error: ErrorInfo }
  | { type: "rollback.result"; key: string; attempt: number; error?: ErrorInfo }
  /** After a load, once the replay of run() has registered its handlers: a saga the log has under way goes on. */
  | { type: "saga.resume" }
  /** After a load: a new pass of run(), and the saga's resumption asked for. */
  | { type: "recover" }
  /**
   * A client across a wire let its pass go and something new has happened, or lost it (its lease lapsed): what that
   * pass started is stopped, as a crash stops it, and a new pass replays run() from the top.
   */
  | { type: "pass.new" }
  /** A client across a wire let its pass go: what the pass started stops, and nothing runs until a new pass. */
  | { type: "pass.end" }
  | { type: "wake" }
  | { type: "event"; event: string; payload?: unknown; idempotencyKey?: string }
  | { type: "pause" }
  | { type: "resume" }
  | { type: "terminate"; rollback?: boolean }
  | { type: "restart"; from?: string };

export type CodeEffect =
  /** Start a pass of run(): a replay from the top, answered from the log. */
  | { type: "run.start"; pass: number }
  | { type: "step.run"; key: string; attempt: number; timeoutMs: number }
  /** Abort every attempt and handler in flight: their results no longer count. */
  | { type: "steps.stop"; reason: string }
  | { type: "rollback.run"; key: string; attempt: number; timeoutMs: number }
  /** Send `saga.resume` once the replay has made its calls. */
  | { type: "saga.resume" }
  /** Stored stream rows no result names any more are garbage. */
  | { type: "streams.collect" };

export interface CodeDecideContext extends CodeFoldContext {
  now: number;
  nextId(): string;
  stepLimit: number;
}

export interface CodeDecision {
  records: LogRecord[];
  effects: CodeEffect[];
  /** The key a step call, sleep or wait got; `undefined` for a call from an older pass, which gets no answer. */
  key?: string;
}


class CodeBatch {
  readonly records: LogRecord[] = [];
  readonly effects: CodeEffect[] = [];

  constructor(
    readonly kernel: CodeKernel,
    readonly ctx: CodeDecideContext,
  ) {}

  get book() {
    return this.kernel.state.book;
  }

  get session() {
    return this.kernel.session;
  }

  append(body: RecordBody): void {
    const record = { ...body, seq: this.kernel.state.seq + 1, id: this.ctx.nextId(), at: this.ctx.now } as LogRecord;
    this.kernel.state = applyCodeRecord(this.kernel.state, record, this.ctx);
    this.records.push(record);
  }

  /** Ends the pass of run() and everything it started: a new pass, if any, replays from the top. */
  stopAll(reason: string): void {
    const had = this.session.running.size > 0 || this.session.saga?.running !== undefined;
    this.kernel.session = freshSession(this.session.pass + 1);
    if (had) this.effects.push({ type: "steps.stop", reason });
  }

  /** A new pass replays run() from the top; the handlers registered so far stay, for a terminate that asks for them. */
  startPass(readOnly = false): void {
    const { book } = this;
    if (book.ended || (book.paused && !readOnly)) return;
    endPass(this.kernel);
    this.session.readOnly = readOnly;
    this.effects.push({ type: "run.start", pass: this.session.pass });
  }
}

/** The first record of an instance, and its first pass of run(). */
export function createCode(def: CodeWorkflowDefinition, instanceId: string, creation: Creation, ctx: Omit<CodeDecideContext, "stateBefore" | "stepLimit">): { kernel: CodeKernel; decision: CodeDecision } {
  const body = createdRecord(def, instanceId, creation);
  const record = { ...body, seq: 1, id: ctx.nextId(), at: ctx.now } as LogRecord;
  const state = applyCodeRecord(undefined, record, { stateBefore: () => state });
  return { kernel: { state, session: freshSession(1) }, decision: { records: [record], effects: [{ type: "run.start", pass: 1 }] } };
}

/** A kernel for a state folded from the log; `recover` then starts its pass. */
export function loadedKernel(state: CodeState): CodeKernel {
  return { state, session: freshSession() };
}

/** The pass stops: its calls get no more answers. Its rollback handlers stay registered. */
function endPass(kernel: CodeKernel): void {
  const { pass, handlers, running, saga } = kernel.session;
  kernel.session = { ...freshSession(pass + 1), handlers, running, saga };
}

/** The next key of a `<kind>:<name>` in this pass; `take()` counts it, once the call is accepted (a refused call is not counted). */
function nextKey(session: CodeSession, kind: "do" | "sleep" | "waitForEvent", name: string): { key: string; count: number; take(): void } {
  const counted = `${kind}:${name}`;
  const count = (session.counts.get(counted) ?? 0) + 1;
  return { key: `${counted}-${count}`, count, take: () => void session.counts.set(counted, count) };
}

/**
 * Whether a call of run()'s gets an answer: refused while handlers roll back (Cloudflare's message); none, ever, for
 * a call of an older pass or of a run that has ended.
 */
export function callable(kernel: CodeKernel, pass: number): boolean {
  if (kernel.session.saga) throw new WorkflowFatalError("Cannot execute steps during rollback phase");
  return pass === kernel.session.pass && !kernel.state.book.ended;
}

/** While a saga the log has under way waits to resume, the replay of run() only reads the log. */
function readOnly(batch: CodeBatch): boolean {
  const { rollback } = batch.book;
  return batch.session.readOnly || (rollback !== null && !rollback.finished);
}

/** Starts a step's next attempt unless one runs or the instance is paused: its first, one a stop cut off, or a retry whose time has come. */
function startIfDue(batch: CodeBatch, key: string): void {
  const { book, session } = batch;
  const call = session.calls.get(key);
  if (!call || book.paused || book.ended || readOnly(batch) || session.running.has(key) || has(book.results, key)) return;
  const pending = get(book.steps, key);
  if (pending?.phase === "backoff" && (pending.retryAt ?? Infinity) > batch.ctx.now) return;
  const attempt = (pending?.attempt ?? 0) + 1;
  batch.append({ type: "step.started", data: { key, attempt, ...(attempt === 1 ? call.logged : {}) } });
  session.running.set(key, attempt);
  batch.effects.push({ type: "step.run", key, attempt, timeoutMs: call.policy.timeoutMs });
}

function stepCall(batch: CodeBatch, command: Extract<CodeCommand, { type: "step.call" }>): string | undefined {
  if (!callable(batch.kernel, command.pass)) return undefined;
  assertStepName(command.name);
  assertStepCall(command.name, command.call);
  if (command.handler) assertStepCall(command.name, command.handler, true);
  const { session } = batch;
  if (session.steps + 1 > batch.ctx.stepLimit) {
    throw new WorkflowFatalError(`The limit of ${batch.ctx.stepLimit} steps has been reached. This limit can be changed in your worker configuration.`);
  }
  session.steps += 1;
  const { key, count, take } = nextKey(session, "do", command.name);
  take();
  if (command.handler) session.handlers.set(key, { name: command.name, count, ...command.handler });
  if (has(batch.book.results, key)) return key;
  session.calls.set(key, { name: command.name, count, ...command.call });
  startIfDue(batch, key);
  return key;
}

/** `step.sleep` (for `ms`) or `step.sleepUntil` (until `at`, which may not be in the past). */
function sleep(batch: CodeBatch, pass: number, name: string, until: { ms: number } | { at: number }): string | undefined {
  if (!callable(batch.kernel, pass)) return undefined;
  assertStepName(name);
  if ("ms" in until) assertMilliseconds(name, until.ms, "duration of the sleep");
  const refusePast = "at" in until;
  const dueAt = "at" in until ? until.at : batch.ctx.now + until.ms;
  if (!Number.isFinite(dueAt)) throw new WorkflowFatalError(`sleepUntil("${name}") needs a Date or epoch milliseconds.`);
  if (dueAt - batch.ctx.now > MAX_SLEEP_MS) throw new WorkflowFatalError(`Sleep "${name}" is longer than the 365-day limit.`);
  const { key, take } = nextKey(batch.session, "sleep", name);
  const recorded = has(batch.book.sleeps, key);
  if (!recorded && refusePast && dueAt < batch.ctx.now) throw new Error("You can't sleep until a time in the past, time-traveler");
  take();
  if (recorded || readOnly(batch)) return key;
  batch.append({ type: "timer.started", data: { id: key, dueAt } });
  return key;
}

function wait(batch: CodeBatch, command: Extract<CodeCommand, { type: "wait" }>): string | undefined {
  if (!callable(batch.kernel, command.pass)) return undefined;
  assertStepName(command.name);
  assertEventType(command.eventType);
  const ms = command.timeoutMs ?? DEFAULT_WAIT_MS;
  assertMilliseconds(command.name, ms, "timeout of the event wait");
  const { key, take } = nextKey(batch.session, "waitForEvent", command.name);
  take();
  if (has(batch.book.waits, key) || readOnly(batch)) return key;
  batch.append({ type: "wait.started", data: { key, type: command.eventType, dueAt: batch.ctx.now + ms, timeoutMs: ms } });
  return key;
}

/** Whether the caller must run the step's delay function before it reports this failure: the step retries, and its delay is the function's. */
export function needsRetryDelay(kernel: CodeKernel, key: string, error: ErrorInfo): boolean {
  const call = kernel.session.calls.get(key);
  if (!call?.delayFunction || isNonRetryable(error)) return false;
  return (get(kernel.state.book.steps, key)?.failures ?? 0) + 1 <= call.policy.limit;
}

/** The result record's data: a streamed output by where its rows are, any other as stored JSON. Throws for an output that cannot be kept. */
function succeeded(key: string, attempt: number, call: StepCall, outcome: Extract<AttemptOutcome, { ok: true }>): RecordData["step.succeeded"] {
  const sensitive = call.sensitive ? { sensitive: true as const } : {};
  if ("stream" in outcome) return { key, attempt, output: outcome.preview, stream: outcome.stream, ...sensitive };
  const structured = toStructured(outcome.value, `the output of step "${call.name}"`);
  const shown = structured === undefined ? {} : { output: structured.json, ...(structured.meta === undefined ? {} : { meta: structured.meta }) };
  return { key, attempt, ...shown, ...sensitive };
}

/** Cloudflare ends the instance, rather than throwing into run(), when a step's output cannot be kept; no rollback runs. */
function endFatally(batch: CodeBatch, key: string, attempt: number, error: ErrorInfo, message: string): void {
  const failure = { key, attempt, error: { ...error, nonRetryable: true } };
  batch.stopAll("The instance ended.");
  batch.append({ type: "step.attempt_failed", data: failure });
  batch.append({ type: "step.failed", data: failure });
  batch.append({ type: "instance.errored", data: { error: { name: "WorkflowFatalError", message } } });
}

/** A pause that waited for the running attempts takes effect once none runs: the pass stops, and a resume replays run(). */
function pauseOnceIdle(batch: CodeBatch): void {
  if (!batch.session.pausePending || batch.session.running.size) return;
  endPass(batch.kernel);
}

function stepResult(batch: CodeBatch, command: Extract<CodeCommand, { type: "step.result" }>): void {
  const { key, attempt, outcome } = command;
  const { session } = batch;
  const call = session.calls.get(key);
  // A late result: its attempt was stopped, timed out or superseded.
  if (session.running.get(key) !== attempt || !call || batch.book.ended) return;
  if (outcome.ok) {
    let data: RecordData["step.succeeded"];
    try {
      data = succeeded(key, attempt, call, outcome);
    } catch (error) {
      // A refusal of toStructured's, or what reading the value threw (a getter, a proxy): either way the output cannot be kept.
      return endFatally(batch, key, attempt, errorInfo(error), `The execution of the Workflow instance was terminated, as the step "${call.name}" returned a value which is not serialisable`);
    }
    session.running.delete(key);
    batch.append({ type: "step.succeeded", data });
    return pauseOnceIdle(batch);
  }
  if (outcome.fatal) return endFatally(batch, key, attempt, { name: "WorkflowFatalError", message: outcome.fatal.attempt }, outcome.fatal.instance);
  const failures = (get(batch.book.steps, key)?.failures ?? 0) + 1;
  let error = outcome.error;
  let wait: number | undefined;
  if (!isNonRetryable(error) && failures <= call.policy.limit) {
    if (!call.delayFunction) wait = retryDelay(call.policy, failures);
    else if (outcome.delay && "ms" in outcome.delay) wait = outcome.delay.ms;
    // A failed delay function is the step's error, as in Cloudflare's events; the attempt keeps its own.
    else error = { ...(outcome.delay?.error ?? { name: "Error", message: "The step's delay function was not run." }), nonRetryable: true };
  }
  session.running.delete(key);
  const attemptFailure = { key, attempt, error: outcome.error };
  // The record's time is the wait's start.
  if (wait === undefined) {
    batch.append({ type: "step.attempt_failed", data: attemptFailure });
    batch.append({ type: "step.failed", data: { key, attempt, error } });
  } else {
    batch.append({ type: "step.attempt_failed", data: { ...attemptFailure, retryAt: batch.ctx.now + wait } });
  }
  pauseOnceIdle(batch);
}

/** Started steps with a handler, not yet rolled back, in the saga's order (core/saga.ts). */
function rollbackPlan(batch: CodeBatch): string[] {
  const { firstStarted, rollback } = batch.book;
  const undoable = [...batch.session.handlers.keys()].filter((key) => !rollback?.done.includes(key));
  return undoOrder(undoable, (key) => get(firstStarted, key));
}

/** Starts (or goes on with) the saga: run() gets no more answers, what runs stops, and the first handler starts. */
function startSaga(batch: CodeBatch, error: ErrorInfo, trigger: "error" | "terminate"): void {
  if (batch.session.saga) return;
  const plan = rollbackPlan(batch);
  const handlers = batch.session.handlers;
  batch.stopAll("The instance is rolling back.");
  batch.session.handlers = handlers;
  batch.session.saga = { plan, error, trigger };
  if (!batch.book.rollback) batch.append({ type: "rollback.started", data: { error, trigger } });
  nextHandler(batch);
}

function endSaga(batch: CodeBatch): void {
  const saga = batch.session.saga!;
  batch.session.saga = undefined;
  batch.session.handlers = new Map();
  batch.append(saga.trigger === "terminate" ? { type: "instance.terminated", data: {} } : { type: "instance.errored", data: { error: saga.error } });
}

/** Starts the next handler's next attempt, unless its retry is not due yet or a pause holds the saga; ends the saga when none is left. */
function nextHandler(batch: CodeBatch): void {
  const saga = batch.session.saga!;
  if (batch.book.paused) return;
  const key = saga.plan.find((planned) => !batch.book.rollback?.done.includes(planned));
  if (key === undefined) {
    batch.append({ type: "rollback.completed", data: {} });
    return endSaga(batch);
  }
  const attempts = rollbackAttempts(batch.book, key);
  if ((attempts?.retryAt ?? -Infinity) > batch.ctx.now) return;
  const handler = batch.session.handlers.get(key)!;
  // A crash or an eviction costs no retry: attempts go on from the log.
  const attempt = (attempts?.attempt ?? 0) + 1;
  batch.append({ type: "rollback.step.started", data: { key, attempt, ...(attempt === 1 ? handler.logged : {}) } });
  saga.running = { key, attempt };
  batch.effects.push({ type: "rollback.run", key, attempt, timeoutMs: handler.policy.timeoutMs });
}

function rollbackResult(batch: CodeBatch, command: Extract<CodeCommand, { type: "rollback.result" }>): void {
  const saga = batch.session.saga;
  if (!saga?.running || saga.running.key !== command.key || saga.running.attempt !== command.attempt) return;
  saga.running = undefined;
  const { key, attempt, error } = command;
  if (!error) {
    batch.append({ type: "rollback.step.succeeded", data: { key } });
    return nextHandler(batch);
  }
  const handler = batch.session.handlers.get(key)!;
  const failures = (rollbackAttempts(batch.book, key)?.failures ?? 0) + 1;
  // A handler's retries wait a fixed delay: a delay function is not asked.
  const retry = !isNonRetryable(error) && failures <= handler.policy.limit && !handler.delayFunction;
  const retryAt = retry ? batch.ctx.now + retryDelay(handler.policy, failures) : undefined;
  batch.append({ type: "rollback.step.attempt_failed", data: { key, attempt, error, ...(retryAt === undefined ? {} : { retryAt }) } });
  if (retryAt !== undefined) return nextHandler(batch);
  batch.append({ type: "rollback.step.failed", data: { key, error } });
  batch.append({ type: "rollback.errored", data: { error } });
  endSaga(batch);
}

/**
 * run() ended, in this pass. A saga the log has under way (after a load) goes on now: the replay went as far as the
 * log takes it, so its handlers are registered. Otherwise only a live pass ends the run: not an older one, nor one
 * that only reads the log, nor one a saga has taken over.
 */
function runEnded(batch: CodeBatch, pass: number, end: () => void): void {
  const { session, book } = batch;
  if (pass !== session.pass || session.saga || book.ended) return;
  if (book.rollback && !book.rollback.finished) return startSaga(batch, book.rollback.error, book.rollback.trigger);
  if (!session.readOnly) end();
}

function runCompleted(batch: CodeBatch, command: Extract<CodeCommand, { type: "run.completed" }>): void {
  runEnded(batch, command.pass, () => {
    let data: { output?: Json; meta?: Json };
    try {
      const structured = toStructured(command.output, "the workflow's output");
      data = structured === undefined ? {} : { output: structured.json, ...(structured.meta === undefined ? {} : { meta: structured.meta }) };
    } catch (error) {
      batch.append({ type: "instance.errored", data: { error: errorInfo(error) } });
      return;
    }
    batch.append({ type: "instance.completed", data });
  });
}

/** An error escaped run(): undo the started steps that have rollback handlers, newest first, then end errored. */
function runFailed(batch: CodeBatch, command: Extract<CodeCommand, { type: "run.failed" }>): void {
  runEnded(batch, command.pass, () => {
    if (rollbackPlan(batch).length) startSaga(batch, command.error, "error");
    else batch.append({ type: "instance.errored", data: { error: command.error } });
  });
}

function wake(batch: CodeBatch): void {
  const { now } = batch.ctx;
  const saga = batch.session.saga;
  if (saga && !saga.running) nextHandler(batch);
  const { book } = batch;
  if (book.ended || book.paused) return;
  for (const [key, sleeping] of Object.entries(book.sleeps)) if (!sleeping.done && sleeping.dueAt <= now) batch.append({ type: "timer.fired", data: { id: key } });
  for (const [key, waiting] of Object.entries(book.waits)) if (!waiting.outcome && waiting.dueAt <= now) batch.append({ type: "timer.fired", data: { id: key } });
  for (const key of batch.session.calls.keys()) startIfDue(batch, key);
}

/**
 * Decides one command against the kernel: a refusal throws before anything changes; otherwise the kernel moves on
 * and the decision holds the records to append (in one write) and the effects to carry out once they are durable.
 */
export function decideCode(kernel: CodeKernel, command: CodeCommand, ctx: CodeDecideContext): CodeDecision {
  const batch = new CodeBatch(kernel, ctx);
  const { book } = kernel.state;
  let key: string | undefined;
  switch (command.type) {
    case "step.call":
      key = stepCall(batch, command);
      break;
    case "sleep":
      key = sleep(batch, command.pass, command.name, { ms: command.ms });
      break;
    case "sleep.until":
      key = sleep(batch, command.pass, command.name, { at: command.at });
      break;
    case "wait":
      key = wait(batch, command);
      break;
    case "step.result":
      stepResult(batch, command);
      break;
    case "run.completed":
      runCompleted(batch, command);
      break;
    case "run.failed":
      runFailed(batch, command);
      break;
    case "rollback.result":
      rollbackResult(batch, command);
      break;
    case "saga.resume": {
      const { rollback, ended } = batch.book;
      if (rollback && !rollback.finished && !ended) startSaga(batch, rollback.error, rollback.trigger);
      break;
    }
    case "recover":
      batch.effects.push({ type: "streams.collect" });
      batch.startPass(book.paused !== null);
      if (book.rollback && !book.rollback.finished && !book.ended) batch.effects.push({ type: "saga.resume" });
      break;
    case "wake":
      wake(batch);
      break;
    case "pass.new":
      batch.stopAll("The worker running this pass let it go.");
      batch.startPass();
      break;
    case "pass.end":
      batch.stopAll("The worker running this pass let it go.");
      break;
    case "event": {
      const takenNow = () => !book.paused && book.openWaits.some((open) => get(book.waits, open)?.type === command.event);
      const record = eventRecord(book, command, book.buffer.map((event) => event.payload), takenNow);
      if (record) batch.append(record);
      break;
    }
    case "pause":
      if (book.ended || book.paused) break;
      if (kernel.session.running.size) kernel.session.pausePending = true;
      else endPass(kernel);
      batch.append({ type: "instance.paused", data: {} });
      break;
    case "resume":
      if (!book.paused || book.ended) throw cannotResume(book.instanceId, codeStatusName(book));
      batch.append({ type: "instance.resumed", data: {} });
      // A pause holds a saga between two handlers; the resume lets it go on.
      if (kernel.session.saga) {
        if (!kernel.session.saga.running) nextHandler(batch);
        break;
      }
      if (!kernel.session.pausePending) {
        batch.startPass();
        break;
      }
      // The pause never took effect: the pass goes on, and the steps it asked for meanwhile start now.
      kernel.session.pausePending = false;
      for (const called of kernel.session.calls.keys()) startIfDue(batch, called);
      break;
    case "terminate":
      if (book.ended) throw cannotTerminate(book.instanceId, book.ended.status);
      // A saga already under way is cut short by a terminate, whatever it asks.
      if (command.rollback && !kernel.session.saga && (book.rollback || rollbackPlan(batch).length)) {
        startSaga(batch, TERMINATED_FOR_ROLLBACK, "terminate");
        break;
      }
      batch.stopAll("The instance stopped this step.");
      batch.append({ type: "instance.terminated", data: {} });
      break;
    case "restart": {
      const record = restartRecord(book.instanceId, command.from, (from) => get(book.firstStarted, from));
      batch.stopAll("The instance stopped this step.");
      batch.append(record);
      // The streamed outputs of the steps after the cut are never served again.
      batch.effects.push({ type: "streams.collect" });
      batch.startPass();
      break;
    }
  }
  return { records: batch.records, effects: batch.effects, ...(key === undefined ? {} : { key }) };
}
